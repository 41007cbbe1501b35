// One AdamW step for one parameter, with decoupled weight decay W ← W·(1 − η·λ) applied first, in either
// eps placement (optimizer_config.h: AdamEpsPlacement). Used standalone and for the parameters Muon does
// not take (embeddings, LM head, norm gains, biases).
#pragma once

#include <ATen/ATen.h>

#include "optim/optimizer_config.h"
#include "optim/optimizer_state.h"

namespace moonlight::optim {

void adamwStep(ParameterState& state, const ParamGroupConfig& group, const at::Tensor& grad);

}  // namespace moonlight::optim
