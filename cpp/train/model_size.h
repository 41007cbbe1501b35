// Parameter counts and training FLOPs of a model configuration, read off the C++ model itself: the CausalLM is
// built on the meta device (shapes only: no memory, no initialisation cost), so the counts are exactly the
// tensors the model holds.
#pragma once

#include <cstdint>

#include "models/common/model_config.h"

namespace moonlight::train {

struct ParameterCounts {
  int64_t total = 0;
  // Without embed_tokens and lm_head (Moonlight's README: "15.29B total, 2.24B activated, excluding embeddings").
  int64_t totalExcludingEmbeddings = 0;
  // Per MoE layer only the num_experts_per_tok routed experts a token runs; router and shared experts always
  // count. The routing bias (e_score_correction_bias) is state, not a parameter.
  int64_t activated = 0;
  int64_t activatedExcludingEmbeddings = 0;
};

ParameterCounts countParameters(const models::ModelConfig& config);

// Model FLOPs of training per token, for loss-vs-compute curves and MFU: 6 · (activated matmul parameters,
// lm_head included, the embedding lookup excluded) plus attention's score and value matmuls,
// 6 · heads · T · (d_qk + d_v) per layer (no causal discount, as is customary for MFU).
double trainingFlopsPerToken(const models::ModelConfig& config, int64_t seqLen);

}  // namespace moonlight::train
