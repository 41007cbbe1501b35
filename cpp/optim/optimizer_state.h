// Per-parameter optimizer state and its export as named tensors (for safetensors checkpoints).
// Muon keeps exactly one buffer per matrix (the momentum); AdamW keeps two (first and second moments),
// which is why Muon's optimizer state is half of AdamW's.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "optim/optimizer_config.h"

namespace moonlight::optim {

struct ParameterState {
  std::string name;
  at::Tensor param;
  size_t group = 0;
  at::Tensor momentumBuffer;  // Muon: M ← μM + G
  at::Tensor expAvg;          // AdamW first moment
  at::Tensor expAvgSq;        // AdamW second moment
  int64_t steps = 0;          // AdamW's bias correction counts this parameter's own steps
  // Diagnostics (Optimizer::setRecordUpdateRms): RMS of the last applied update per matrix ([E] for a stack,
  // [1] otherwise), after the shape scaling and before lr and weight decay: what the paper's Lemma 1 puts at ≈ 0.2.
  at::Tensor updateRms;
};

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// Allocates the buffers of `kind` as zeros now (not lazily on the first step), so stateBytes() is known
// up front and a checkpoint taken before the first step has every key.
void allocateState(ParameterState& state, OptimizerKind kind);

// Bytes of the per-parameter buffers (momentum, moments); step counters are host integers and not counted.
int64_t stateBytes(const std::vector<ParameterState>& states);

// Names: state.<param>.momentum_buffer | exp_avg | exp_avg_sq | step, param_groups.<i>.<hyper-parameter>,
// optimizer.step_count. Buffers are returned by reference (as torch's state_dict does): copy them if the
// optimizer keeps stepping while they are in use.
NamedTensors exportState(const std::vector<ParameterState>& states, const std::vector<ParamGroupConfig>& groups,
                         int64_t stepCount);

// One parameter's buffers as exportState names them: state.<name>.momentum_buffer | exp_avg | exp_avg_sq |
// step (= `steps`).
void exportBuffers(NamedTensors& out, const std::string& name, const ParameterState& buffers, int64_t steps);
// A data-parallel rank's piece of one parameter (DistributedStep::localState): its buffers, and
// shard.<name>.range = [first, end), the element offsets of the piece in the flattened parameter.
void exportShard(NamedTensors& out, const std::string& name, const ParameterState& buffers, int64_t steps,
                 int64_t first, int64_t end);

// Checks every key, shape and dtype first and only then copies, so a bad state dict leaves the optimizer
// unchanged (CheckpointError naming the key).
void importState(std::vector<ParameterState>& states, std::vector<ParamGroupConfig>& groups, int64_t& stepCount,
                 const std::map<std::string, at::Tensor>& tensors);

}  // namespace moonlight::optim
