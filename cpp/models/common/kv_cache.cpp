#include "models/common/kv_cache.h"

#include "core/errors.h"

namespace moonlight::models {

KvCache::KvCache(const ModelConfig& config, int64_t batch, int64_t capacity, at::TensorOptions options)
    : batch_(batch), capacity_(capacity) {
  if (batch <= 0 || capacity <= 0) fail(ErrorKind::Argument, "a KV cache needs a positive batch and capacity");
  layers_.reserve(config.numHiddenLayers);
  for (int64_t layer = 0; layer < config.numHiddenLayers; ++layer) {
    if (config.mla) {
      const int64_t width = config.mla->kvLoraRank + config.mla->qkRopeHeadDim;
      layers_.emplace_back(MlaLatentCache{at::zeros({batch, capacity, width}, options)});
    } else {
      const std::vector<int64_t> shape{batch, config.numKeyValueHeads, capacity, config.headDim};
      layers_.emplace_back(DenseKvCache{at::zeros(shape, options), at::zeros(shape, options)});
    }
  }
  keyMask_ = at::zeros({batch, capacity}, options.dtype(at::kBool));
}

int64_t KvCache::allocatedBytes() const {
  int64_t bytes = 0;
  for (const LayerKvCache& layer : layers_) {
    if (const auto* mla = std::get_if<MlaLatentCache>(&layer)) {
      bytes += mla->compressed.nbytes();
    } else {
      const auto& dense = std::get<DenseKvCache>(layer);
      bytes += dense.keys.nbytes() + dense.values.nbytes();
    }
  }
  return bytes;
}

at::Tensor KvCache::appendMask(const at::Tensor& tokenMask, int64_t count) {
  if (length_ + count > capacity_) {
    fail(ErrorKind::Argument, "the KV cache holds " + std::to_string(capacity_) + " positions; " +
                                  std::to_string(length_ + count) + " were asked for");
  }
  const int64_t total = length_ + count;
  if (!tokenMask.defined()) {
    keyMask_.narrow(1, length_, count).fill_(true);
    // One new token per sequence (a decoding step) sits after every cached slot: causality hides nothing,
    // only the padding does, and the cached key mask already is the answer (a view, no mask built per step).
    if (count == 1) return keyMask_.narrow(1, 0, total).view({batch_, 1, 1, total});
  } else {
    keyMask_.narrow(1, length_, count).copy_(tokenMask.to(at::kBool));
  }
  at::TensorOptions options = keyMask_.options();
  // Query t sits in slot length_ + t and may see slots s ≤ length_ + t.
  at::Tensor querySlots = at::arange(length_, total, options.dtype(at::kLong)).view({count, 1});
  at::Tensor keySlots = at::arange(total, options.dtype(at::kLong)).view({1, total});
  at::Tensor causal = keySlots.le(querySlots);
  at::Tensor keys = keyMask_.narrow(1, 0, total).view({batch_, 1, 1, total});
  at::Tensor own = keySlots.eq(querySlots).view({1, 1, count, total});
  return causal.view({1, 1, count, total}).logical_and(keys).logical_or(own);
}

void KvCache::advance(int64_t count) { length_ += count; }

}  // namespace moonlight::models
