// The optimizer in the JS API (src/optim/): new OptimizerHandle(kind, params, groups, options) over
// [{name, tensor}] parameters, the user's groups and options read by the core (optim/optimizer_options.h),
// data parallelism by cpp/dist when options.distributed is set; and the handle's methods. Lives in train/
// because it joins cpp/optim with cpp/dist, which cpp/optim does not depend on.
#include <map>

#include "core/api_tables.h"
#include "core/errors.h"
#include "dist/distributed_strategy.h"
#include "optim/optimizer.h"
#include "optim/optimizer_options.h"

namespace moonlight::train {

using namespace api;  // the tables' vocabulary: Arguments, Result, Job, Kind, …

namespace {

using optim::Optimizer;

std::shared_ptr<Optimizer> construct(const Arguments& a) {
  std::vector<optim::NamedParameter> params;
  for (const auto& [name, tensor] : a.namedTensors(1)) params.push_back({name, tensor});
  return optim::makeOptimizer(a.get<std::string>(0), std::move(params), a.data(2), a.data(3), dist::distributedStepFactory);
}

// step(grads?): grads by parameter name; without them each parameter's .grad is used.
std::optional<std::map<std::string, at::Tensor>> gradsOf(const Arguments& a) {
  if (!a.given(0)) return std::nullopt;
  return std::map<std::string, at::Tensor>(a.namedTensors(0).begin(), a.namedTensors(0).end());
}

Json reportToJson(const optim::StepReport& report) {
  return {{"skipped", report.skipped}, {"nonFiniteParameters", report.nonFiniteParameters}};
}

// setLr(lr) for every group, setLr(lr, group) for one.
Result setLr(Optimizer& optimizer, const Arguments& a) {
  const double lr = a.get<double>(0);
  const std::optional<int64_t> group = a.get<std::optional<int64_t>>(1);
  if (group && *group < 0) fail(ErrorKind::Argument, "group must be a non-negative index");
  if (group) {
    optimizer.setGroupLr(static_cast<size_t>(*group), lr);
  } else {
    optimizer.setLr(lr);
  }
  return {};
}

// [{name, optimizer, lr, weightDecay, parameters: [names]}], in group index order.
Result groups(Optimizer& optimizer, const Arguments&) {
  const auto& groups = optimizer.groups();
  std::vector<std::vector<std::string>> members(groups.size());
  for (const optim::ParameterState& state : optimizer.parameters()) members[state.group].push_back(state.name);
  Json list = Json::array();
  for (size_t i = 0; i < groups.size(); ++i) {
    list.push_back({{"name", groups[i].name},
                    {"optimizer", optim::optimizerKindName(groups[i].kind)},
                    {"lr", groups[i].lr},
                    {"weightDecay", groups[i].weightDecay},
                    {"parameters", members[i]}});
  }
  return list;
}

}  // namespace

const HandleClass<Optimizer>& optimizerClass() {
  const Parameter grads{"grads", Kind::TensorsByName};
  static const HandleClass<Optimizer> spec = {
      "OptimizerHandle",
      "dispose",  // frees the state (momentum / moments: up to twice the model) now
      "the optimizer was disposed",
      "an optimizer (Muon or AdamW)",
      {{"kind", Kind::Data}, {"params", Kind::TensorEntries}, {"groups", Kind::Data}, {"options", Kind::Data}},
      construct,
      {
          {"step", {grads}, [](Optimizer& o, const Arguments& a) -> Result { return reportToJson(o.step(gradsOf(a))); }},
          {"stepAsync", {grads}, nullptr, [](std::shared_ptr<Optimizer> o, const Arguments& a) -> Job {
             return [o, grads = gradsOf(a)]() -> Result { return reportToJson(o->step(grads)); };
           }},
          {"zeroGrad", {}, [](Optimizer& o, const Arguments&) -> Result {
             o.zeroGrad();
             return {};
           }},
          {"setLr", {{"lr", Kind::Data}, {"group", Kind::Data}}, setLr},
          {"stateDict", {}, [](Optimizer& o, const Arguments&) -> Result { return TensorsByName{o.stateDict()}; }},
          // The whole state gathered from every rank (a collective when distributed: every rank must call it).
          {"fullStateDictAsync", {}, nullptr, [](std::shared_ptr<Optimizer> o, const Arguments&) -> Job {
             return [o]() -> Result { return TensorsByName{o->fullStateDict()}; };
           }},
          {"loadStateDict", {{"state", Kind::TensorsByName}}, [](Optimizer& o, const Arguments& a) -> Result {
             if (!a.given(0)) fail(ErrorKind::Argument, "state must be an object");
             o.loadStateDict(std::map<std::string, at::Tensor>(a.namedTensors(0).begin(), a.namedTensors(0).end()));
             return {};
           }},
          {"stateBytes", {}, [](Optimizer& o, const Arguments&) -> Result { return Json(o.stateBytes()); }},
          {"stepCount", {}, [](Optimizer& o, const Arguments&) -> Result { return Json(o.stepCount()); }},
          {"groups", {}, groups},
      },
  };
  return spec;
}

}  // namespace moonlight::train
