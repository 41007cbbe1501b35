// One whole training step of a CausalLM, as a C++ caller (the Node binding, a C++ program) runs it:
// gradient accumulation over the micro-batches (train_step.h) → gradient reduction over the data-parallel
// ranks (the optimizer's distributed reduceGradients, which also clips) or the local norm and clip →
// optimizer step (update RMS recorded on diagnostic steps, gradients dropped after) → QK-Clip → routing-bias
// update from the expert load summed over the ranks → diagnostics.
#pragma once

#include <optional>
#include <vector>

#include "models/common/causal_lm.h"
#include "optim/optimizer.h"
#include "train/step_diagnostics.h"
#include "train/train_step.h"

namespace moonlight::train {

struct StepOutcome {
  TrainStepResult metrics;
  optim::StepReport optimizer;                 // default (not skipped) when the step ran no optimizer
  std::optional<StepDiagnostics> diagnostics;  // on diagnostic steps
};

// optimizer: null computes (and clips) the gradients only, leaving them on the parameters; no QK-Clip then.
// A distributed optimizer makes the step a collective over the current process group (dist/process_group.h)
// that every rank calls with its own micro-batches: losses, tokens and expert load come back global.
StepOutcome runTrainStep(const models::CausalLM& model, const std::vector<models::ForwardInputs>& microBatches,
                         const TrainStepOptions& options, optim::Optimizer* optimizer = nullptr);

}  // namespace moonlight::train
