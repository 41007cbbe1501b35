// The optimizer object: parameters (held natively, shared with their owners), their param groups and
// state, and one step() that validates every gradient before it changes anything. Muon groups and AdamW
// groups live in the same object, as in Moonlight; a standalone AdamW is this class with AdamW groups only.
// Plain C++ (no N-API): a C++ train step uses it directly.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "optim/distributed_step.h"
#include "optim/optimizer_config.h"
#include "optim/optimizer_state.h"
#include "optim/param_routing.h"

namespace moonlight::optim {

struct StepReport {
  bool skipped = false;
  std::vector<std::string> nonFiniteParameters;  // set when the step was skipped for NaN/Inf gradients
};

class Optimizer {
 public:
  // params[i] belongs to routed.groups[routed.groupOf[i]]. Checks names (unique, non-empty), tensors
  // (floating point, distinct) and every group's hyper-parameters; allocates the state.
  // With `distributed`, the state lives partitioned in the strategy (none is allocated here) and step() is a
  // collective that every data-parallel rank calls (cpp/dist).
  Optimizer(std::vector<NamedParameter> params, RoutedGroups routed,
            NonFiniteGradPolicy nonFiniteGrads = NonFiniteGradPolicy::Error,
            DistributedStepFactory makeDistributed = nullptr);

  // Updates every parameter that has a gradient (parameter.grad()). Before any change: ShapeError /
  // DTypeError / DeviceError for a gradient that does not match its parameter, and for NaN/Inf gradients
  // an ArgumentError naming them (NonFiniteGradPolicy::Error) or a skipped step (SkipStep). One step runs
  // at a time: a call during a running step is an ArgumentError.
  // With `grads`, those gradients (by parameter name) are used instead of parameter.grad(); parameters
  // missing from it are not updated, unknown names are an ArgumentError.
  StepReport step(const std::optional<std::map<std::string, at::Tensor>>& grads = std::nullopt);
  // Distributed only (collective): averages the gradients over the ranks and clips them by their global
  // norm, for a train step that clips before the update; the next step() uses them.
  GradientNorm reduceGradients(std::optional<double> maxNorm);
  bool distributed() const { return distributed_ != nullptr; }
  // The whole state gathered from every rank, in stateDict()'s format (collective when distributed).
  NamedTensors fullStateDict();

  // Drops every parameter's gradient (torch's zero_grad(set_to_none=True)).
  void zeroGrad();

  // Diagnostics: while on, every (single-process) step sets each updated parameter's state.updateRms.
  void setRecordUpdateRms(bool record) { recordUpdateRms_ = record; }

  void setLr(double lr);                     // every group
  void setGroupLr(size_t group, double lr);  // one group

  NamedTensors stateDict() const;
  void loadStateDict(const std::map<std::string, at::Tensor>& tensors);
  int64_t stateBytes() const;
  int64_t stepCount() const { return stepCount_; }

  const std::vector<ParamGroupConfig>& groups() const { return groups_; }
  const std::vector<ParameterState>& parameters() const { return states_; }

 private:
  std::unique_lock<std::mutex> exclusive(const char* what) const;
  StepReport distributedStep(bool explicitGrads);

  std::vector<ParameterState> states_;
  std::vector<ParamGroupConfig> groups_;
  NonFiniteGradPolicy nonFiniteGrads_;
  int64_t stepCount_ = 0;
  std::shared_ptr<DistributedStep> distributed_;
  bool gradientsReduced_ = false;
  bool recordUpdateRms_ = false;
  mutable std::mutex busy_;
};

}  // namespace moonlight::optim
