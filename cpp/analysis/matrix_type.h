// The matrix type a parameter belongs to, for diagnostics and spectra grouped the way the paper reports
// them: the checkpoint name without the layer/expert indices and the model prefix, with the projection kept
// ("q_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj", "mlp.gate_proj",
// "experts.down_proj", "shared_experts.up_proj", "router", "embed_tokens", "lm_head", "norms"). A bias keeps
// its ".bias" suffix so it never mixes with the weights.
#pragma once

#include <string>

namespace moonlight::analysis {

std::string matrixType(const std::string& parameterName);

}  // namespace moonlight::analysis
