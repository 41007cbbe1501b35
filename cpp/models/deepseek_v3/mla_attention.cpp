#include "models/deepseek_v3/mla_attention.h"

#include <cmath>
#include <limits>

#include "models/common/attention.h"

namespace moonlight::models {

double MlaAttention::softmaxScale(const ModelConfig& config) {
  const MlaConfig& mla = *config.mla;
  double scale = 1.0 / std::sqrt(static_cast<double>(mla.qkNopeHeadDim + mla.qkRopeHeadDim));
  // transformers applies mscale² for any non-default rope type that sets mscale_all_dim.
  if (config.rope.type != "default" && config.rope.mscaleAllDim != 0) {
    const double m = yarnMscale(config.rope.factor, config.rope.mscaleAllDim);
    scale *= m * m;
  }
  return scale;
}

MlaAttention::MlaAttention(ParameterFactory& factory, const std::string& prefix, const ModelConfig& config)
    : numHeads_(config.numAttentionHeads), mla_(*config.mla), scale_(softmaxScale(config)) {
  const int64_t hidden = config.hiddenSize;
  const int64_t qkHeadDim = mla_.qkNopeHeadDim + mla_.qkRopeHeadDim;
  if (mla_.qLoraRank) {
    qAProj_ = Linear::make(factory, prefix + ".q_a_proj", hidden, *mla_.qLoraRank, false);
    qALayernorm_ = RmsNorm::make(factory, prefix + ".q_a_layernorm", *mla_.qLoraRank, config.rmsNormEps);
    qBProj_ = Linear::make(factory, prefix + ".q_b_proj", *mla_.qLoraRank, numHeads_ * qkHeadDim, false);
  } else {
    qProj_ = Linear::make(factory, prefix + ".q_proj", hidden, numHeads_ * qkHeadDim, false);
  }
  kvAProjWithMqa_ =
      Linear::make(factory, prefix + ".kv_a_proj_with_mqa", hidden, mla_.kvLoraRank + mla_.qkRopeHeadDim, false);
  kvALayernorm_ = RmsNorm::make(factory, prefix + ".kv_a_layernorm", mla_.kvLoraRank, config.rmsNormEps);
  kvBProj_ = Linear::make(factory, prefix + ".kv_b_proj", mla_.kvLoraRank,
                          numHeads_ * (mla_.qkNopeHeadDim + mla_.vHeadDim), false);
  oProj_ = Linear::make(factory, prefix + ".o_proj", numHeads_ * mla_.vHeadDim, hidden, false);
}

at::Tensor MlaAttention::queries(const at::Tensor& x) const {
  if (qProj_) return (*qProj_)(x);
  return (*qBProj_)((*qALayernorm_)((*qAProj_)(x)));
}

namespace {

// max over batch, query and key positions of q·kᵀ·scale where the mask allows it, per head: [H] fp32.
// One sequence at a time so the scores never take more than H·T² floats.
at::Tensor maxAttentionLogits(const at::Tensor& queries, const at::Tensor& keys, double scale, const at::Tensor& mask) {
  at::NoGradGuard noGrad;
  const int64_t batch = queries.size(0), seqLen = queries.size(2);
  at::Tensor allowed = mask.defined() ? mask : at::ones({seqLen, seqLen}, queries.options().dtype(at::kBool)).tril();
  at::Tensor best;
  for (int64_t b = 0; b < batch; ++b) {
    at::Tensor scores = at::matmul(queries[b].to(at::kFloat), keys[b].to(at::kFloat).transpose(-1, -2)).mul_(scale);
    at::Tensor sequenceAllowed = mask.defined() ? allowed[b] : allowed;  // [1|H, T, T] or [T, T]
    scores.masked_fill_(sequenceAllowed.logical_not(), -std::numeric_limits<float>::infinity());
    at::Tensor perHead = scores.flatten(1).amax(1);
    best = best.defined() ? at::maximum(best, perHead) : perHead;
  }
  return best;
}

}  // namespace

at::Tensor MlaAttention::operator()(const at::Tensor& x, const RotaryTables& rotary, const at::Tensor& mask,
                                    at::Tensor* maxLogits) const {
  const int64_t batch = x.size(0), seqLen = x.size(1);
  const int64_t nope = mla_.qkNopeHeadDim, rope = mla_.qkRopeHeadDim;
  auto rotate = [&](const at::Tensor& t) {
    return mla_.ropeInterleave ? applyRotaryInterleaved(t, rotary) : applyRotaryHalf(t, rotary);
  };

  // (split, not narrow: one cat in backward instead of a zero-filled full-size tensor per part.)
  // Queries: [B,H,T,nope+rope], rows of the projection go head by head.
  at::Tensor q = queries(x).view({batch, seqLen, numHeads_, nope + rope}).transpose(1, 2);
  std::vector<at::Tensor> qParts = q.split_with_sizes({nope, rope}, -1);
  at::Tensor qNope = qParts[0];
  at::Tensor qPe = rotate(qParts[1]);

  // Compressed KV: the latent (normed) and one shared rope key (not normed).
  std::vector<at::Tensor> compressed = kvAProjWithMqa_(x).split_with_sizes({mla_.kvLoraRank, rope}, -1);
  at::Tensor latent = kvALayernorm_(compressed[0]);
  at::Tensor kPe = rotate(compressed[1].reshape({batch, 1, seqLen, rope}));

  // Up-projection: per head the first qk_nope features are k_nope, the next v_head_dim are v.
  at::Tensor kv = kvBProj_(latent).view({batch, seqLen, numHeads_, nope + mla_.vHeadDim}).transpose(1, 2);
  std::vector<at::Tensor> kvParts = kv.split_with_sizes({nope, mla_.vHeadDim}, -1);
  at::Tensor kNope = kvParts[0];
  at::Tensor v = kvParts[1];

  at::Tensor queryStates = at::cat({qNope, qPe}, -1);
  at::Tensor keyStates = at::cat({kNope, kPe.expand({batch, numHeads_, seqLen, rope})}, -1);
  if (maxLogits != nullptr) *maxLogits = maxAttentionLogits(queryStates.detach(), keyStates.detach(), scale_, mask);
  return oProj_(causalAttention(queryStates, keyStates, v, scale_, mask));
}

at::Tensor MlaAttention::cached(const at::Tensor& x, const RotaryTables& rotary, const at::Tensor& mask,
                                MlaLatentCache& cache, int64_t start) const {
  const int64_t batch = x.size(0), seqLen = x.size(1);
  const int64_t nope = mla_.qkNopeHeadDim, rope = mla_.qkRopeHeadDim, rank = mla_.kvLoraRank, vDim = mla_.vHeadDim;
  auto rotate = [&](const at::Tensor& t) {
    return mla_.ropeInterleave ? applyRotaryInterleaved(t, rotary) : applyRotaryHalf(t, rotary);
  };
  at::Tensor q = queries(x).view({batch, seqLen, numHeads_, nope + rope}).transpose(1, 2);
  std::vector<at::Tensor> qParts = q.split_with_sizes({nope, rope}, -1);
  at::Tensor qPe = rotate(qParts[1]);  // [B, H, T, rope]

  std::vector<at::Tensor> compressed = kvAProjWithMqa_(x).split_with_sizes({rank, rope}, -1);
  at::Tensor slots = cache.compressed.narrow(1, start, seqLen);
  slots.narrow(-1, 0, rank).copy_(kvALayernorm_(compressed[0]));
  slots.narrow(-1, rank, rope).copy_(rotate(compressed[1].reshape({batch, 1, seqLen, rope})).view({batch, seqLen, rope}));

  // kv_b_proj's rows go head by head: [k_nope (nope rows) | v (vDim rows)], each row over the latent.
  at::Tensor upProjection = kvBProj_.effectiveWeight().view({numHeads_, nope + vDim, rank});
  at::Tensor keyAbsorb = upProjection.narrow(1, 0, nope);      // W_UK [H, nope, rank]
  at::Tensor valueAbsorb = upProjection.narrow(1, nope, vDim);  // W_UV [H, vDim, rank]
  at::Tensor qLatent = at::matmul(qParts[0], keyAbsorb);        // [B, H, T, rank]

  // One multi-query attention over [latent | rope key]: query [q_latent | q_pe], key the cached rows, value
  // the latent part; the shared key/value head serves all H query heads.
  const int64_t total = start + seqLen;
  at::Tensor keys = cache.compressed.narrow(1, 0, total).unsqueeze(1);  // [B, 1, S, rank + rope]
  at::Tensor values = keys.narrow(-1, 0, rank);
  // The single key/value head is shared by all H query heads: folding the heads into the query axis
  // ([B, 1, H·T, ·]) makes it one batched matmul per sequence, with no per-head copy of the cache.
  at::Tensor query = at::cat({qLatent, qPe}, -1).reshape({batch, 1, numHeads_ * seqLen, rank + rope});
  // With one query per head (a decoding step) the [B, 1, 1, S] mask already broadcasts over the folded axis.
  at::Tensor headMask =
      seqLen == 1 ? mask : mask.expand({batch, numHeads_, seqLen, total}).reshape({batch, 1, numHeads_ * seqLen, total});
  at::Tensor latentOut = at::scaled_dot_product_attention(query, keys, values, headMask, 0.0, /*is_causal=*/false, scale_)
                             .view({batch, numHeads_, seqLen, rank});
  at::Tensor out = at::matmul(latentOut, valueAbsorb.transpose(1, 2));  // [B, H, T, vDim]
  return oProj_(out.transpose(1, 2).reshape({batch, seqLen, numHeads_ * vDim}));
}

}  // namespace moonlight::models
