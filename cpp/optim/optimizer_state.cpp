#include "optim/optimizer_state.h"

#include <functional>
#include <set>

#include "core/errors.h"

namespace moonlight::optim {

void allocateState(ParameterState& state, OptimizerKind kind) {
  // Buffers live in the parameter's dtype and device (as torch does), zero-initialised.
  if (kind == OptimizerKind::Muon) {
    state.momentumBuffer = at::zeros_like(state.param, at::MemoryFormat::Contiguous);
  } else {
    state.expAvg = at::zeros_like(state.param, at::MemoryFormat::Contiguous);
    state.expAvgSq = at::zeros_like(state.param, at::MemoryFormat::Contiguous);
  }
}

int64_t stateBytes(const std::vector<ParameterState>& states) {
  int64_t total = 0;
  for (const ParameterState& state : states) {
    for (const at::Tensor* buffer : {&state.momentumBuffer, &state.expAvg, &state.expAvgSq}) {
      if (buffer->defined()) total += static_cast<int64_t>(buffer->nbytes());
    }
  }
  return total;
}

namespace {

at::Tensor scalarDouble(double value) { return at::scalar_tensor(value, at::kDouble); }
at::Tensor scalarLong(int64_t value) { return at::scalar_tensor(value, at::kLong); }

// The numeric hyper-parameters of a group that a checkpoint restores, by state-dict key suffix.
struct GroupField {
  const char* key;
  std::function<double&(ParamGroupConfig&)> field;
  bool muonOnly;
  bool adamwOnly;
};

const std::vector<GroupField>& groupFields() {
  static const std::vector<GroupField> fields = {
      {"lr", [](ParamGroupConfig& g) -> double& { return g.lr; }, false, false},
      {"weight_decay", [](ParamGroupConfig& g) -> double& { return g.weightDecay; }, false, false},
      {"momentum", [](ParamGroupConfig& g) -> double& { return g.muon.momentum; }, true, false},
      {"ns_eps", [](ParamGroupConfig& g) -> double& { return g.muon.newtonSchulz.eps; }, true, false},
      {"beta1", [](ParamGroupConfig& g) -> double& { return g.adamw.beta1; }, false, true},
      {"beta2", [](ParamGroupConfig& g) -> double& { return g.adamw.beta2; }, false, true},
      {"eps", [](ParamGroupConfig& g) -> double& { return g.adamw.eps; }, false, true},
  };
  return fields;
}

bool appliesTo(const GroupField& field, OptimizerKind kind) {
  return !(field.muonOnly && kind != OptimizerKind::Muon) && !(field.adamwOnly && kind != OptimizerKind::AdamW);
}

std::string groupKey(size_t index, const char* suffix) {
  return "param_groups." + std::to_string(index) + "." + suffix;
}

}  // namespace

NamedTensors exportState(const std::vector<ParameterState>& states, const std::vector<ParamGroupConfig>& groups,
                         int64_t stepCount) {
  NamedTensors out;
  out.emplace_back("optimizer.step_count", scalarLong(stepCount));
  for (size_t i = 0; i < groups.size(); ++i) {
    ParamGroupConfig group = groups[i];  // a copy: groupFields() hands out mutable references
    out.emplace_back(groupKey(i, "kind"), scalarLong(group.kind == OptimizerKind::Muon ? 0 : 1));
    for (const GroupField& field : groupFields()) {
      if (appliesTo(field, group.kind)) out.emplace_back(groupKey(i, field.key), scalarDouble(field.field(group)));
    }
    if (group.kind == OptimizerKind::Muon) {
      out.emplace_back(groupKey(i, "nesterov"), scalarLong(group.muon.nesterov ? 1 : 0));
      out.emplace_back(groupKey(i, "ns_steps"), scalarLong(group.muon.newtonSchulz.steps));
    }
  }
  for (const ParameterState& state : states) exportBuffers(out, state.name, state, state.steps);
  return out;
}

void exportBuffers(NamedTensors& out, const std::string& name, const ParameterState& buffers, int64_t steps) {
  const std::string prefix = "state." + name + ".";
  if (buffers.momentumBuffer.defined()) out.emplace_back(prefix + "momentum_buffer", buffers.momentumBuffer);
  if (buffers.expAvg.defined()) {
    out.emplace_back(prefix + "exp_avg", buffers.expAvg);
    out.emplace_back(prefix + "exp_avg_sq", buffers.expAvgSq);
    out.emplace_back(prefix + "step", scalarLong(steps));
  }
}

void exportShard(NamedTensors& out, const std::string& name, const ParameterState& buffers, int64_t steps,
                 int64_t first, int64_t end) {
  exportBuffers(out, name, buffers, steps);
  out.emplace_back("shard." + name + ".range", at::tensor(std::vector<int64_t>{first, end}, at::kLong));
}

void importState(std::vector<ParameterState>& states, std::vector<ParamGroupConfig>& groups, int64_t& stepCount,
                 const std::map<std::string, at::Tensor>& tensors) {
  std::set<std::string> used;
  auto require = [&](const std::string& key) -> const at::Tensor& {
    auto found = tensors.find(key);
    if (found == tensors.end() || !found->second.defined()) {
      fail(ErrorKind::Checkpoint, "optimizer state dict has no '" + key + "'");
    }
    used.insert(key);
    return found->second;
  };
  auto requireScalar = [&](const std::string& key) -> double {
    const at::Tensor& value = require(key);
    if (value.numel() != 1) fail(ErrorKind::Checkpoint, "optimizer state '" + key + "' must hold one value");
    return value.item<double>();
  };
  auto requireLike = [&](const std::string& key, const at::Tensor& like) -> const at::Tensor& {
    const at::Tensor& value = require(key);
    if (!value.sizes().equals(like.sizes())) {
      fail(ErrorKind::Checkpoint, "optimizer state '" + key + "' has shape " + c10::str(value.sizes()) +
                                      " but the parameter needs " + c10::str(like.sizes()));
    }
    if (!value.is_floating_point()) fail(ErrorKind::Checkpoint, "optimizer state '" + key + "' is not floating point");
    return value;
  };

  // Pass 1: read and check everything into copies; nothing of the optimizer changes yet.
  const double loadedStepCount = requireScalar("optimizer.step_count");
  std::vector<ParamGroupConfig> newGroups = groups;
  for (size_t i = 0; i < newGroups.size(); ++i) {
    ParamGroupConfig& group = newGroups[i];
    const int64_t kind = static_cast<int64_t>(requireScalar(groupKey(i, "kind")));
    if (kind != (group.kind == OptimizerKind::Muon ? 0 : 1)) {
      fail(ErrorKind::Checkpoint, "optimizer state '" + groupKey(i, "kind") + "' says " + (kind == 0 ? "muon" : "adamw") +
                                      " but param group '" + group.name + "' is " + optimizerKindName(group.kind));
    }
    for (const GroupField& field : groupFields()) {
      if (appliesTo(field, group.kind)) field.field(group) = requireScalar(groupKey(i, field.key));
    }
    if (group.kind == OptimizerKind::Muon) {
      group.muon.nesterov = requireScalar(groupKey(i, "nesterov")) != 0;
      group.muon.newtonSchulz.steps = static_cast<int64_t>(requireScalar(groupKey(i, "ns_steps")));
    }
    try {
      validateGroupConfig(group);
    } catch (const Error& error) {
      fail(ErrorKind::Checkpoint, std::string("optimizer state dict: ") + error.what());
    }
  }
  std::vector<std::vector<std::pair<at::Tensor*, at::Tensor>>> copies(states.size());
  std::vector<int64_t> newSteps(states.size(), 0);
  for (size_t i = 0; i < states.size(); ++i) {
    ParameterState& state = states[i];
    const std::string prefix = "state." + state.name + ".";
    if (state.momentumBuffer.defined()) {
      copies[i].emplace_back(&state.momentumBuffer, requireLike(prefix + "momentum_buffer", state.param));
    }
    if (state.expAvg.defined()) {
      copies[i].emplace_back(&state.expAvg, requireLike(prefix + "exp_avg", state.param));
      copies[i].emplace_back(&state.expAvgSq, requireLike(prefix + "exp_avg_sq", state.param));
      const double steps = requireScalar(prefix + "step");
      if (steps < 0) fail(ErrorKind::Checkpoint, "optimizer state '" + prefix + "step' is negative");
      newSteps[i] = static_cast<int64_t>(steps);
    }
  }
  for (const auto& entry : tensors) {
    if (!used.count(entry.first)) {
      fail(ErrorKind::Checkpoint, "optimizer state dict has an unknown key '" + entry.first +
                                      "' (a different model or optimizer?)");
    }
  }
  // Pass 2: commit. copy_ keeps the optimizer's own buffers (dtype and device) and converts the loaded values.
  for (size_t i = 0; i < states.size(); ++i) {
    for (auto& [buffer, value] : copies[i]) buffer->copy_(value);
    states[i].steps = newSteps[i];
  }
  groups = std::move(newGroups);
  stepCount = static_cast<int64_t>(loadedStepCount);
}

}  // namespace moonlight::optim
