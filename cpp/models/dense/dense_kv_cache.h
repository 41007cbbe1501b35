// The key/value cache of one grouped-query attention layer (Llama, Qwen2): rotated keys and values of every
// cached position, one slot per key/value head (not per query head: GQA's memory saving is kept).
#pragma once

#include <ATen/ATen.h>

namespace moonlight::models {

struct DenseKvCache {
  at::Tensor keys;    // [B, Hkv, capacity, head_dim], already rotated
  at::Tensor values;  // [B, Hkv, capacity, head_dim]
};

}  // namespace moonlight::models
