#include "models/dense/dense_attention.h"

#include <cmath>

#include "models/common/attention.h"

namespace moonlight::models {

DenseAttention::DenseAttention(ParameterFactory& factory, const std::string& prefix, const ModelConfig& config)
    : numHeads_(config.numAttentionHeads), numKeyValueHeads_(config.numKeyValueHeads), headDim_(config.headDim) {
  const int64_t hidden = config.hiddenSize;
  qProj_ = Linear::make(factory, prefix + ".q_proj", hidden, numHeads_ * headDim_, config.qkvBias);
  kProj_ = Linear::make(factory, prefix + ".k_proj", hidden, numKeyValueHeads_ * headDim_, config.qkvBias);
  vProj_ = Linear::make(factory, prefix + ".v_proj", hidden, numKeyValueHeads_ * headDim_, config.qkvBias);
  oProj_ = Linear::make(factory, prefix + ".o_proj", numHeads_ * headDim_, hidden, config.outputBias);
}

at::Tensor DenseAttention::operator()(const at::Tensor& x, const RotaryTables& rotary, const at::Tensor& mask) const {
  const int64_t batch = x.size(0), seqLen = x.size(1);
  auto heads = [&](const at::Tensor& projected, int64_t count) {
    return projected.view({batch, seqLen, count, headDim_}).transpose(1, 2);
  };
  at::Tensor q = applyRotaryHalf(heads(qProj_(x), numHeads_), rotary);
  at::Tensor k = applyRotaryHalf(heads(kProj_(x), numKeyValueHeads_), rotary);
  at::Tensor v = heads(vProj_(x), numKeyValueHeads_);
  at::Tensor out = causalAttention(q, k, v, 1.0 / std::sqrt(static_cast<double>(headDim_)), mask);
  return oProj_(out);
}

at::Tensor DenseAttention::cached(const at::Tensor& x, const RotaryTables& rotary, const at::Tensor& mask,
                                  DenseKvCache& cache, int64_t start) const {
  const int64_t batch = x.size(0), seqLen = x.size(1);
  auto heads = [&](const at::Tensor& projected, int64_t count) {
    return projected.view({batch, seqLen, count, headDim_}).transpose(1, 2);
  };
  at::Tensor q = applyRotaryHalf(heads(qProj_(x), numHeads_), rotary);
  cache.keys.narrow(2, start, seqLen).copy_(applyRotaryHalf(heads(kProj_(x), numKeyValueHeads_), rotary));
  cache.values.narrow(2, start, seqLen).copy_(heads(vProj_(x), numKeyValueHeads_));
  const int64_t total = start + seqLen;
  at::Tensor out = causalAttention(q, cache.keys.narrow(2, 0, total), cache.values.narrow(2, 0, total),
                                   1.0 / std::sqrt(static_cast<double>(headDim_)), mask);
  return oProj_(out);
}

}  // namespace moonlight::models
