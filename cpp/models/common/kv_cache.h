// The whole model's incremental-decoding cache: one layer cache per decoder layer (MLA latent or dense K/V),
// preallocated for `capacity` positions, plus which cached positions are real tokens (left padding is not).
#pragma once

#include <variant>
#include <vector>

#include <ATen/ATen.h>

#include "models/common/model_config.h"
#include "models/deepseek_v3/mla_latent_cache.h"
#include "models/dense/dense_kv_cache.h"

namespace moonlight::models {

using LayerKvCache = std::variant<MlaLatentCache, DenseKvCache>;

class KvCache {
 public:
  // Allocates every layer's cache for batch × capacity positions in the given dtype/device.
  KvCache(const ModelConfig& config, int64_t batch, int64_t capacity, at::TensorOptions options);

  int64_t batch() const { return batch_; }
  int64_t capacity() const { return capacity_; }
  // Positions already written (the same for every sequence: padding occupies slots too).
  int64_t length() const { return length_; }
  LayerKvCache& layer(size_t index) { return layers_.at(index); }
  // Bytes held by the layer caches (the key mask is not counted: it is one bool per slot, not per feature).
  int64_t allocatedBytes() const;

  // Records `tokenMask` [B, T] (1 = token; undefined: all tokens) for the next T = count slots and returns the
  // attention mask [B, 1, T, L+T] for those queries: causal over the cache, padded keys removed. A query still
  // sees its own slot so that a padding query's softmax row is never empty (its output is discarded anyway).
  // With T = 1 and no tokenMask the mask is a view of the cache's key mask, valid until the next append.
  at::Tensor appendMask(const at::Tensor& tokenMask, int64_t count);
  // Advances the length by T after every layer has written its T new slots.
  void advance(int64_t count);

 private:
  int64_t batch_, capacity_, length_ = 0;
  std::vector<LayerKvCache> layers_;
  at::Tensor keyMask_;  // [B, capacity] bool
};

}  // namespace moonlight::models
