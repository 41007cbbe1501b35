// One AdamW step for one parameter, with decoupled weight decay W ← W·(1 − η·λ) applied first, in either
// eps placement (optimizer_config.h: AdamEpsPlacement). Used standalone and for the parameters Muon does
// not take (embeddings, LM head, norm gains, biases).
#pragma once

#include <ATen/ATen.h>

#include "optim/optimizer_config.h"
#include "optim/optimizer_state.h"

namespace moonlight::optim {

// recordUpdateRms: set state.updateRms to the RMS of the applied step direction (the bias-corrected
// m̂/(√v̂ + eps), without lr and weight decay), per matrix for ≥ 2-D parameters.
void adamwStep(ParameterState& state, const ParamGroupConfig& group, const at::Tensor& grad, bool recordUpdateRms = false);

}  // namespace moonlight::optim
