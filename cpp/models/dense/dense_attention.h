// Grouped-query attention of Llama and Qwen2: q/k/v projections (with biases where the config asks),
// half-split RoPE on the whole head, num_key_value_heads shared by groups of query heads.
#pragma once

#include "models/common/layers.h"
#include "models/common/model_config.h"
#include "models/common/rotary.h"
#include "models/dense/dense_kv_cache.h"

namespace moonlight::models {

class DenseAttention {
 public:
  DenseAttention(ParameterFactory& factory, const std::string& prefix, const ModelConfig& config);
  at::Tensor operator()(const at::Tensor& x, const RotaryTables& rotary, const at::Tensor& mask) const;
  // Incremental decoding: writes the T new rotated keys and values into cache slots [start, start+T) and
  // attends over slots [0, start+T) under mask [B, 1, T, start+T].
  at::Tensor cached(const at::Tensor& x, const RotaryTables& rotary, const at::Tensor& mask, DenseKvCache& cache,
                    int64_t start) const;

 private:
  Linear qProj_, kProj_, vProj_, oProj_;
  int64_t numHeads_, numKeyValueHeads_, headDim_;
};

}  // namespace moonlight::models
