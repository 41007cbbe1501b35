// Multi-head latent attention (DeepSeek-V2/V3, Moonlight), as transformers' DeepseekV3Attention computes it:
//   q = q_proj(x)  or  q_b_proj(q_a_layernorm(q_a_proj(x)))            (q_lora_rank null / set)
//   [c | k_pe] = kv_a_proj_with_mqa(x);  c ← kv_a_layernorm(c)           (k_pe: one rope key for all heads)
//   [k_nope | v] per head = kv_b_proj(c)
//   q_pe, k_pe rotated (interleaved pairs); Q = [q_nope; q_pe], K = [k_nope; k_pe]
//   softmax scale d_qk^-1/2, times yarn's mscale² when rope scaling sets mscale_all_dim.
#pragma once

#include <optional>

#include "models/common/layers.h"
#include "models/common/model_config.h"
#include "models/common/rotary.h"
#include "models/deepseek_v3/mla_latent_cache.h"

namespace moonlight::models {

class MlaAttention {
 public:
  MlaAttention(ParameterFactory& factory, const std::string& prefix, const ModelConfig& config);
  // maxLogits: when given, set to each head's maximum pre-softmax logit q·k·scale over the batch's unmasked
  // pairs, [H] fp32 (no gradient). The fused kernel keeps its scores to itself, so this is one extra
  // no-grad q·kᵀ per sequence (no softmax, no values): only asked for on diagnostic or QK-Clip steps.
  at::Tensor operator()(const at::Tensor& x, const RotaryTables& rotary, const at::Tensor& mask,
                        at::Tensor* maxLogits = nullptr) const;
  // Incremental decoding with the absorbed formulation: caches only [latent | rotated rope key] in slots
  // [start, start+T); scores are (q_nope·W_UK)·cᵀ + q_pe·k_peᵀ, the output softmax·c mapped through W_UV.
  // Nothing is expanded per head over the cached positions.
  at::Tensor cached(const at::Tensor& x, const RotaryTables& rotary, const at::Tensor& mask, MlaLatentCache& cache,
                    int64_t start) const;

  // The softmax scale this config gives (exposed for tests and the documentation of mscale).
  static double softmaxScale(const ModelConfig& config);

  // The weights QK-Clip rescales (cpp/train/qk_clip.h): rows of the query projection (q_proj, or q_b_proj
  // with q-LoRA) go head by head [q_nope | q_pe]; rows of kv_b_proj head by head [k_nope | v].
  const at::Tensor& queryWeight() const { return qProj_ ? qProj_->weight : qBProj_->weight; }
  const at::Tensor& kvUpWeight() const { return kvBProj_.weight; }
  int64_t numHeads() const { return numHeads_; }
  const MlaConfig& mla() const { return mla_; }

 private:
  at::Tensor queries(const at::Tensor& x) const;

  std::optional<Linear> qProj_;
  std::optional<Linear> qAProj_;
  std::optional<RmsNorm> qALayernorm_;
  std::optional<Linear> qBProj_;
  Linear kvAProjWithMqa_;
  RmsNorm kvALayernorm_;
  Linear kvBProj_;
  Linear oProj_;
  int64_t numHeads_;
  MlaConfig mla_;
  double scale_;
};

}  // namespace moonlight::models
