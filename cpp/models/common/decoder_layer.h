// One pre-norm decoder layer: h += Attn(RMSNorm(h)); h += FFN(RMSNorm(h)). The attention is MLA (DeepSeek-V3)
// or grouped-query (Llama/Qwen2); the FFN a dense SwiGLU or, on DeepSeek's MoE layers, the MoE block.
#pragma once

#include <optional>

#include "models/common/kv_cache.h"
#include "models/common/layers.h"
#include "models/common/model_config.h"
#include "models/common/rotary.h"
#include "models/deepseek_v3/mla_attention.h"
#include "models/deepseek_v3/moe_block.h"
#include "models/dense/dense_attention.h"

namespace moonlight::models {

class DecoderLayer {
 public:
  DecoderLayer(ParameterFactory& factory, int64_t index, const ModelConfig& config);

  // stats: filled on MoE layers when given. maxAttentionLogits: set on MLA layers when given (MlaAttention).
  at::Tensor operator()(const at::Tensor& hidden, const RotaryTables& rotary, const at::Tensor& mask,
                        double auxLossAlpha, MoeLayerStats* stats, at::Tensor* maxAttentionLogits = nullptr) const;

  // Incremental decoding: the same layer with its attention reading and extending `cache` from slot `start`.
  at::Tensor cached(const at::Tensor& hidden, const RotaryTables& rotary, const at::Tensor& mask, LayerKvCache& cache,
                    int64_t start) const;

  const MoeBlock* moe() const { return moe_ ? &*moe_ : nullptr; }
  const MlaAttention* mlaAttention() const { return mlaAttention_ ? &*mlaAttention_ : nullptr; }

 private:
  std::optional<MlaAttention> mlaAttention_;
  std::optional<DenseAttention> denseAttention_;
  std::optional<GatedMlp> mlp_;
  std::optional<MoeBlock> moe_;
  RmsNorm inputLayernorm_;
  RmsNorm postAttentionLayernorm_;
};

}  // namespace moonlight::models
