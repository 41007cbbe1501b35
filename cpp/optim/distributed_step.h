// The seam through which data parallelism (cpp/dist) plugs into an Optimizer: with a DistributedStep the
// optimizer keeps its parameters and param groups, but the gradient averaging, the state (partitioned over
// ranks) and the update belong to the strategy. Declared here so cpp/optim does not depend on cpp/dist.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "optim/optimizer_config.h"
#include "optim/optimizer_state.h"

namespace moonlight::optim {

struct GradientNorm {
  double norm = 0;         // global L2 norm of the averaged gradients, before clipping
  double coefficient = 1;  // min(1, maxNorm / (norm + 1e-6)) as torch's clip_grad_norm_, 1 without maxNorm
};

class DistributedStep {
 public:
  virtual ~DistributedStep() = default;
  // Collective. Averages every parameter's .grad over the ranks (a missing gradient counts as zeros) into
  // the strategy's buffers and clips them by their global norm.
  virtual GradientNorm reduceGradients(const std::vector<ParameterState>& params,
                                       const std::vector<ParamGroupConfig>& groups, std::optional<double> maxNorm) = 0;
  // Collective. Updates every parameter from the gradients of the last reduceGradients; afterwards every
  // rank holds the same parameters.
  virtual void step(const std::vector<ParameterState>& params, const std::vector<ParamGroupConfig>& groups) = 0;
  // This rank's optimizer state bytes.
  virtual int64_t stateBytes() const = 0;
  // This rank's partition of the state (not collective): names as exportState, each buffer the flat piece
  // this rank owns, plus `shard.<param>.range` = [first, end) element offsets into the flattened parameter.
  virtual NamedTensors localState(const std::vector<ParameterState>& params) const = 0;
  // Collective. The whole state as a single-process optimizer would have it (per-parameter ParameterState
  // with full buffers), so exportState/importState and any world size can use it.
  virtual std::vector<ParameterState> gatherFullState(const std::vector<ParameterState>& params,
                                                      const std::vector<ParamGroupConfig>& groups) = 0;
  // Keeps this rank's partition of a full state (as gatherFullState returns it).
  virtual void scatterFullState(const std::vector<ParameterState>& full) = 0;
};

// Made by the Optimizer once its parameters are checked, from their states (names, tensors, groups).
using DistributedStepFactory = std::function<std::shared_ptr<DistributedStep>(const std::vector<ParameterState>&,
                                                                              const std::vector<ParamGroupConfig>&)>;

}  // namespace moonlight::optim
