#include "optim/optimizer_options.h"

#include "core/json_options.h"

namespace moonlight::optim {

// The group requests src/optim/parameters.ts builds from the user's param groups.
template <typename Visit>
void forEachField(GroupRequest& request, Visit&& field) {
  field("name", request.name, json_options::kRequired);
  field("parameterIndices", request.parameterIndices, json_options::kRequired);
  field("optimizer", request.kind);
  field("lr", request.lr, json_options::kNonNegative);
  field("weightDecay", request.weightDecay, json_options::kNonNegative);
}

std::shared_ptr<Optimizer> makeOptimizer(const std::string& kindName, std::vector<NamedParameter> params,
                                         const json_options::Json& groups, const json_options::Json& options,
                                         const DistributedStrategies& strategies) {
  OptimizerKind kind{};
  if (!valueNamed(kindName, kind)) {
    fail(ErrorKind::Argument, "optimizer kind is '" + kindName + "'; expected " + expectedNames<OptimizerKind>());
  }
  const OptimizerSetup setup = kind == OptimizerKind::Muon ? muonSetup(options) : adamwSetup(options);
  if (!groups.is_array()) json_options::expected("groups", groups, "a list of param groups", ErrorKind::Argument);
  std::vector<GroupRequest> requests(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    json_options::readOptions(groups[i], "params[" + std::to_string(i) + "]", requests[i]);
    if (kind == OptimizerKind::AdamW) {
      if (requests[i].kind == OptimizerKind::Muon) {
        fail(ErrorKind::Config, "param group '" + requests[i].name + "' asks for Muon; use Muon for that");
      }
      requests[i].kind = OptimizerKind::AdamW;
    }
  }
  RoutedGroups routed = routeParameters(params, requests, setup.muonBase, setup.adamwBase, setup.routing);
  DistributedStepFactory distributed = setup.distributed ? strategies(*setup.distributed) : nullptr;
  return std::make_shared<Optimizer>(std::move(params), std::move(routed), setup.nonFiniteGrads, std::move(distributed));
}

}  // namespace moonlight::optim
