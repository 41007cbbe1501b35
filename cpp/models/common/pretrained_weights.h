// Filling a model from a Hugging Face checkpoint folder. Build the model with WeightInit::Uninitialised, then
// every checkpoint tensor is read from disk straight into the model's memory (per-expert tensors into their
// slice of the [E, out, in] stack), converted to the model's dtype on the way (the routers'
// e_score_correction_bias stays fp32, as transformers keeps it). Nothing else is allocated but a bounded
// staging buffer, so the peak is the model itself.
#pragma once

#include <string>
#include <vector>

#include "models/common/causal_lm.h"

namespace moonlight::models {

struct PretrainedLoadReport {
  std::vector<std::string> unexpected;  // checkpoint tensors the model does not use (e.g. persisted inv_freq)
};

// CheckpointError naming the folder and the first missing tensors when the checkpoint lacks any the model
// needs (checked before any data is read), or naming the tensor when a shape or dtype does not fit.
PretrainedLoadReport loadPretrainedWeights(const CausalLM& model, const std::string& directory);

}  // namespace moonlight::models
