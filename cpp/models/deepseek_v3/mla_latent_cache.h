// The cache of one MLA layer as DeepSeek-V3's absorbed inference keeps it: per position only the compressed
// latent c (after kv_a_layernorm, kv_lora_rank features) and the one rope key shared by all heads (after
// RoPE, qk_rope_head_dim features) — never the per-head keys and values kv_b_proj would expand them to.
// Both live in one tensor so that attention reads them as a single key without a copy per step.
#pragma once

#include <ATen/ATen.h>

namespace moonlight::models {

struct MlaLatentCache {
  // [B, capacity, kv_lora_rank + qk_rope_head_dim]: columns [0, kv_lora_rank) the latent, the rest the rope key.
  at::Tensor compressed;
};

}  // namespace moonlight::models
