// What every attention variant shares: the causal (+ padding) mask and the scaled-dot-product core.
#pragma once

#include <optional>

#include <ATen/ATen.h>

namespace moonlight::models {

// A boolean mask [B, 1, T, T] (true = may attend): causal, and keys where paddingMask [B, T] is 0 removed.
// Undefined when there is no padding mask: the core then uses the (faster) built-in causal path.
at::Tensor buildAttentionMask(const at::Tensor& paddingMask, int64_t seqLen);

// softmax(q kᵀ · scale + mask) v over q [B,H,T,Dqk], k [B,Hkv,T,Dqk], v [B,Hkv,T,Dv]; returns [B,T,H·Dv].
// Hkv may divide H (grouped-query attention: each key/value head serves H/Hkv consecutive query heads).
at::Tensor causalAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                           const at::Tensor& mask);

}  // namespace moonlight::models
