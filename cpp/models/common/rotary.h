// Rotary position embeddings: the inverse-frequency schedules transformers implements (default, linear,
// llama3, yarn) and the two pair layouts: half-split (Llama/Qwen2) and interleaved (DeepSeek-V3).
#pragma once

#include <ATen/ATen.h>

#include "models/common/model_config.h"

namespace moonlight::models {

// cos/sin per position and frequency pair, [T, dim/2], already multiplied by the attention factor.
struct RotaryTables {
  at::Tensor cos;
  at::Tensor sin;
};

class RotaryEmbedding {
 public:
  RotaryEmbedding() = default;
  // dim: the number of rotated features per head (qk_rope_head_dim for MLA, head_dim for dense models).
  RotaryEmbedding(const RopeConfig& rope, int64_t dim);

  // Tables for positions 0..seqLen-1, computed in fp32 and cast to `dtype` (the activations' dtype).
  RotaryTables tables(int64_t seqLen, const at::Device& device, at::ScalarType dtype) const;
  // Tables for explicit positions [B, T] (cached decoding, left-padded batches): cos/sin [B, 1, T, dim/2],
  // which broadcast over the head axis of [B, H, T, dim] queries and keys.
  RotaryTables tablesAt(const at::Tensor& positions, at::ScalarType dtype) const;
  double attentionFactor() const { return attentionFactor_; }

 private:
  at::Tensor invFreq_;  // [dim/2], fp32, CPU
  double attentionFactor_ = 1.0;
};

// x: [..., T, dim]. Rotates pairs (x_{2i}, x_{2i+1}) and returns them de-interleaved, [rotated evens, rotated
// odds], exactly as transformers' apply_rotary_pos_emb_interleave: dot products equal those of the true
// interleaved rotation as long as queries and keys use the same layout.
at::Tensor applyRotaryInterleaved(const at::Tensor& x, const RotaryTables& tables);
// x: [..., T, dim]. Rotates pairs (x_i, x_{i+dim/2}) (GPT-NeoX "rotate_half" layout).
at::Tensor applyRotaryHalf(const at::Tensor& x, const RotaryTables& tables);

// yarn's mscale: 0.1·m·ln(s) + 1 (1 when s ≤ 1).
double yarnMscale(double scale, double mscale);

}  // namespace moonlight::models
