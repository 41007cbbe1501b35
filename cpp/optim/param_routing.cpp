#include "optim/param_routing.h"

#include <map>

#include "core/errors.h"

namespace moonlight::optim {

OptimizerKind defaultRoute(const std::string& name, at::IntArrayRef shape, const RoutingRules& rules) {
  if (shape.size() < 2) return OptimizerKind::AdamW;
  for (const std::string& pattern : rules.adamwNamePatterns) {
    if (!pattern.empty() && name.find(pattern) != std::string::npos) return OptimizerKind::AdamW;
  }
  return OptimizerKind::Muon;
}

RoutedGroups routeParameters(const std::vector<NamedParameter>& params, const std::vector<GroupRequest>& requests,
                             const ParamGroupConfig& muonBase, const ParamGroupConfig& adamwBase,
                             const RoutingRules& rules) {
  constexpr size_t kUnassigned = static_cast<size_t>(-1);
  std::vector<size_t> requestOf(params.size(), kUnassigned);
  for (size_t r = 0; r < requests.size(); ++r) {
    for (size_t index : requests[r].parameterIndices) {
      if (index >= params.size()) {
        fail(ErrorKind::Config, "param group '" + requests[r].name + "' lists parameter index " +
                                    std::to_string(index) + " but there are " + std::to_string(params.size()));
      }
      if (requestOf[index] != kUnassigned) {
        fail(ErrorKind::Config, "parameter '" + params[index].name + "' is in two param groups ('" +
                                    requests[requestOf[index]].name + "' and '" + requests[r].name + "')");
      }
      requestOf[index] = r;
    }
  }
  std::vector<GroupRequest> allRequests = requests;
  GroupRequest defaults;
  defaults.name = "default";
  for (size_t i = 0; i < params.size(); ++i) {
    if (requestOf[i] == kUnassigned) {
      requestOf[i] = allRequests.size();
      defaults.parameterIndices.push_back(i);
    }
  }
  if (!defaults.parameterIndices.empty()) allRequests.push_back(defaults);

  RoutedGroups routed;
  routed.groupOf.assign(params.size(), 0);
  // (request, kind) → group index, created in the order parameters first need them.
  std::map<std::pair<size_t, OptimizerKind>, size_t> groupIndex;
  for (size_t i = 0; i < params.size(); ++i) {
    const GroupRequest& request = allRequests[requestOf[i]];
    const at::Tensor& tensor = params[i].tensor;
    OptimizerKind kind = request.kind.value_or(defaultRoute(params[i].name, tensor.sizes(), rules));
    if (kind == OptimizerKind::Muon && tensor.dim() < 2) {
      fail(ErrorKind::Config, "param group '" + request.name + "' asks Muon to update '" + params[i].name +
                                  "' of shape " + c10::str(tensor.sizes()) +
                                  ", but Muon needs a matrix (≥ 2 dims); put it in an 'adamw' group");
    }
    auto key = std::make_pair(requestOf[i], kind);
    auto found = groupIndex.find(key);
    if (found == groupIndex.end()) {
      ParamGroupConfig group = kind == OptimizerKind::Muon ? muonBase : adamwBase;
      group.kind = kind;
      group.name = request.name + "/" + optimizerKindName(kind);
      if (request.lr) group.lr = *request.lr;
      if (request.weightDecay) group.weightDecay = *request.weightDecay;
      found = groupIndex.emplace(key, routed.groups.size()).first;
      routed.groups.push_back(group);
    }
    routed.groupOf[i] = found->second;
  }
  return routed;
}

}  // namespace moonlight::optim
