#include "optim/optimizer.h"

#include <cmath>
#include <set>

#include "core/dtype.h"
#include "core/errors.h"
#include "optim/adamw.h"
#include "optim/muon.h"

namespace moonlight::optim {

Optimizer::Optimizer(std::vector<NamedParameter> params, RoutedGroups routed, NonFiniteGradPolicy nonFiniteGrads,
                     DistributedStepFactory makeDistributed)
    : groups_(std::move(routed.groups)), nonFiniteGrads_(nonFiniteGrads) {
  if (params.empty()) fail(ErrorKind::Config, "the optimizer got no parameters");
  if (routed.groupOf.size() != params.size()) fail(ErrorKind::Config, "every parameter needs a param group");
  for (const ParamGroupConfig& group : groups_) validateGroupConfig(group);
  std::set<std::string> names;
  std::set<const void*> storages;
  for (size_t i = 0; i < params.size(); ++i) {
    NamedParameter& param = params[i];
    if (param.name.empty()) fail(ErrorKind::Config, "parameter " + std::to_string(i) + " has an empty name");
    if (!names.insert(param.name).second) fail(ErrorKind::Config, "two parameters are named '" + param.name + "'");
    if (!param.tensor.defined()) fail(ErrorKind::Argument, "parameter '" + param.name + "' is not a tensor");
    if (!param.tensor.is_floating_point()) {
      fail(ErrorKind::DType, "parameter '" + param.name + "' is " + dtypeName(param.tensor.scalar_type()) +
                                 "; the optimizer updates floating-point tensors only");
    }
    // The same memory twice would be updated twice per step. (Meta tensors, which a memory plan builds an
    // optimizer on, have no memory to share.)
    if (param.tensor.numel() > 0 && !param.tensor.is_meta() && !storages.insert(param.tensor.data_ptr()).second) {
      fail(ErrorKind::Config, "parameter '" + param.name + "' shares its memory with another parameter");
    }
    size_t group = routed.groupOf[i];
    if (group >= groups_.size()) fail(ErrorKind::Config, "parameter '" + param.name + "' has no param group");
    if (groups_[group].kind == OptimizerKind::Muon && param.tensor.dim() < 2) {
      fail(ErrorKind::Config, "Muon needs a matrix but parameter '" + param.name + "' has shape " +
                                  c10::str(param.tensor.sizes()));
    }
    ParameterState state;
    state.name = param.name;
    state.param = param.tensor;
    state.group = group;
    if (!makeDistributed) allocateState(state, groups_[group].kind);
    states_.push_back(std::move(state));
  }
  if (makeDistributed) distributed_ = makeDistributed(states_, groups_);
}

std::unique_lock<std::mutex> Optimizer::exclusive(const char* what) const {
  std::unique_lock<std::mutex> lock(busy_, std::try_to_lock);
  if (!lock.owns_lock()) {
    fail(ErrorKind::Argument, std::string("cannot ") + what + " while an optimizer step is running; await step() first");
  }
  return lock;
}

StepReport Optimizer::step(const std::optional<std::map<std::string, at::Tensor>>& explicitGrads) {
  auto lock = exclusive("step");
  at::NoGradGuard noGrad;  // parameters are autograd leaves: in-place updates must not be recorded
  if (distributed_) return distributedStep(explicitGrads.has_value());
  if (explicitGrads) {
    for (const auto& entry : *explicitGrads) {
      bool known = false;
      for (const ParameterState& state : states_) known = known || state.name == entry.first;
      if (!known) fail(ErrorKind::Argument, "grads names '" + entry.first + "', which is not a parameter of this optimizer");
    }
  }

  // Pass 1: check every gradient; nothing changes until all are valid.
  std::vector<at::Tensor> grads(states_.size());
  std::vector<size_t> withGrad;
  for (size_t i = 0; i < states_.size(); ++i) {
    const ParameterState& state = states_[i];
    at::Tensor grad;
    if (explicitGrads) {
      auto found = explicitGrads->find(state.name);
      if (found != explicitGrads->end()) grad = found->second;
    } else {
      grad = state.param.grad();
    }
    if (!grad.defined()) continue;  // no gradient this step (frozen or unused): left as it is, like torch
    if (grad.is_sparse()) fail(ErrorKind::Argument, "gradient of '" + state.name + "' is sparse; dense gradients only");
    if (!grad.sizes().equals(state.param.sizes())) {
      fail(ErrorKind::Shape, "gradient of '" + state.name + "' has shape " + c10::str(grad.sizes()) +
                                 " but the parameter has shape " + c10::str(state.param.sizes()));
    }
    if (grad.scalar_type() != state.param.scalar_type()) {
      fail(ErrorKind::DType, "gradient of '" + state.name + "' is " + dtypeName(grad.scalar_type()) +
                                 " but the parameter is " + dtypeName(state.param.scalar_type()));
    }
    if (grad.device() != state.param.device()) {
      fail(ErrorKind::Device, "gradient of '" + state.name + "' is on " + grad.device().str() +
                                  " but the parameter is on " + state.param.device().str());
    }
    grads[i] = grad;
    withGrad.push_back(i);
  }
  if (withGrad.empty()) return {};
  // One host sync for all finiteness checks; names are looked up only when something is wrong.
  std::vector<at::Tensor> finite;
  finite.reserve(withGrad.size());
  for (size_t i : withGrad) finite.push_back(at::isfinite(grads[i]).all().to(at::kCPU));
  if (!at::stack(finite).all().item<bool>()) {
    StepReport report;
    report.skipped = true;
    for (size_t k = 0; k < withGrad.size(); ++k) {
      if (!finite[k].item<bool>()) report.nonFiniteParameters.push_back(states_[withGrad[k]].name);
    }
    if (nonFiniteGrads_ == NonFiniteGradPolicy::SkipStep) return report;
    std::string names;
    for (const std::string& name : report.nonFiniteParameters) names += (names.empty() ? "'" : ", '") + name + "'";
    fail(ErrorKind::Argument, "non-finite gradient (NaN or Inf) in " + names +
                                  "; parameters are unchanged (pass nonFiniteGrads: 'skip' to skip such steps)");
  }

  // Pass 2: update. AdamW parameters one by one (elementwise), Muon ones batched by shape.
  std::vector<MuonTask> muonTasks;
  for (ParameterState& state : states_) state.updateRms = at::Tensor();
  for (size_t i : withGrad) {
    ParameterState& state = states_[i];
    const ParamGroupConfig& group = groups_[state.group];
    if (group.kind == OptimizerKind::AdamW) {
      adamwStep(state, group, grads[i], recordUpdateRms_);
    } else {
      muonTasks.push_back({&state, &group, state.group, grads[i], recordUpdateRms_});
    }
  }
  if (!muonTasks.empty()) muonStep(muonTasks);
  ++stepCount_;
  return {};
}

StepReport Optimizer::distributedStep(bool explicitGrads) {
  // Every rank must run the same collectives, so a per-rank choice (explicit grads, a skipped step) is not
  // offered here; NaN/Inf in the averaged gradients are the same on every rank and propagate.
  if (explicitGrads) fail(ErrorKind::Argument, "a distributed optimizer steps from the parameters' .grad only");
  if (!gradientsReduced_) distributed_->reduceGradients(states_, groups_, std::nullopt);
  gradientsReduced_ = false;
  distributed_->step(states_, groups_);
  ++stepCount_;
  return {};
}

GradientNorm Optimizer::reduceGradients(std::optional<double> maxNorm) {
  auto lock = exclusive("reduce the gradients");
  if (!distributed_) fail(ErrorKind::Argument, "reduceGradients() is for a distributed optimizer");
  at::NoGradGuard noGrad;
  GradientNorm norm = distributed_->reduceGradients(states_, groups_, maxNorm);
  gradientsReduced_ = true;
  return norm;
}

NamedTensors Optimizer::fullStateDict() {
  auto lock = exclusive("read the state");
  if (!distributed_) return exportState(states_, groups_, stepCount_);
  at::NoGradGuard noGrad;
  return exportState(distributed_->gatherFullState(states_, groups_), groups_, stepCount_);
}

void Optimizer::zeroGrad() {
  auto lock = exclusive("zeroGrad");
  for (ParameterState& state : states_) state.param.mutable_grad() = at::Tensor();
}

void Optimizer::setLr(double lr) {
  auto lock = exclusive("set the lr");
  if (!std::isfinite(lr) || lr < 0) fail(ErrorKind::Config, "lr is " + std::to_string(lr) + "; expected a finite number ≥ 0");
  for (ParamGroupConfig& group : groups_) group.lr = lr;
}

void Optimizer::setGroupLr(size_t group, double lr) {
  auto lock = exclusive("set the lr");
  if (group >= groups_.size()) fail(ErrorKind::Argument, "no param group " + std::to_string(group));
  if (!std::isfinite(lr) || lr < 0) fail(ErrorKind::Config, "lr is " + std::to_string(lr) + "; expected a finite number ≥ 0");
  groups_[group].lr = lr;
}

NamedTensors Optimizer::stateDict() const {
  auto lock = exclusive("read the state");
  if (distributed_) return distributed_->localState(states_);
  return exportState(states_, groups_, stepCount_);
}

void Optimizer::loadStateDict(const std::map<std::string, at::Tensor>& tensors) {
  auto lock = exclusive("load a state dict");
  at::NoGradGuard noGrad;
  if (!distributed_) {
    importState(states_, groups_, stepCount_, tensors);
    return;
  }
  // A full (gathered or single-process) state: checked and loaded whole, then each rank keeps its part, so
  // a checkpoint resumes on any number of ranks.
  std::vector<ParameterState> full = states_;
  for (ParameterState& state : full) allocateState(state, groups_[state.group].kind);
  std::vector<ParamGroupConfig> groups = groups_;
  int64_t stepCount = stepCount_;
  importState(full, groups, stepCount, tensors);
  distributed_->scatterFullState(full);
  groups_ = std::move(groups);
  stepCount_ = stepCount;
}

int64_t Optimizer::stateBytes() const {
  return distributed_ ? distributed_->stateBytes() : optim::stateBytes(states_);
}

}  // namespace moonlight::optim
