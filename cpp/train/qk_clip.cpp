#include "train/qk_clip.h"

#include "core/errors.h"

namespace moonlight::train {

int64_t applyQkClip(const models::CausalLM& model, const std::vector<at::Tensor>& maxLogits, const QkClipOptions& options,
                    double tolerance) {
  if (!(options.threshold > 0)) fail(ErrorKind::Argument, "qkClip.threshold must be > 0");
  if (!(options.alpha >= 0 && options.alpha <= 1)) fail(ErrorKind::Argument, "qkClip.alpha must be in [0, 1]");
  at::NoGradGuard noGrad;
  int64_t clipped = 0;
  for (size_t layer = 0; layer < maxLogits.size() && layer < model.layers().size(); ++layer) {
    const models::MlaAttention* attention = model.layers()[layer].mlaAttention();
    if (attention == nullptr || !maxLogits[layer].defined()) continue;
    // η_h = min(1, τ / S_h): heads at or below τ keep η = 1 (untouched).
    at::Tensor logits = maxLogits[layer].to(at::kCPU, at::kDouble);
    at::Tensor over = logits > options.threshold * (1.0 + tolerance);
    at::Tensor eta = at::where(over, options.threshold / logits, at::ones_like(logits));
    const int64_t heads = over.sum().item<int64_t>();
    if (heads == 0) continue;
    clipped += heads;
    const int64_t numHeads = attention->numHeads();
    const models::MlaConfig& mla = attention->mla();
    const int64_t nope = mla.qkNopeHeadDim, rope = mla.qkRopeHeadDim;
    at::Tensor query = attention->queryWeight();
    at::Tensor kvUp = attention->kvUpWeight();
    auto perHead = [&](double exponent, const at::Tensor& like) {
      return eta.pow(exponent).to(like.device(), like.scalar_type()).view({numHeads, 1, 1});
    };
    at::Tensor queryHeads = query.view({numHeads, nope + rope, query.size(-1)});
    queryHeads.narrow(1, 0, nope).mul_(perHead(options.alpha, query));
    queryHeads.narrow(1, nope, rope).mul_(perHead(1.0, query));
    at::Tensor kvHeads = kvUp.view({numHeads, nope + mla.vHeadDim, kvUp.size(-1)});
    kvHeads.narrow(1, 0, nope).mul_(perHead(1.0 - options.alpha, kvUp));
  }
  return clipped;
}

int64_t applyQkClipRemeasured(const models::CausalLM& model, const std::vector<models::ForwardInputs>& batches,
                              const QkClipOptions& options) {
  // Rounding leaves a clipped head within a few ulps of τ: such heads count as settled.
  constexpr double kSettledTolerance = 1e-5;
  constexpr int kMaxPasses = 8;
  at::NoGradGuard noGrad;
  int64_t firstPass = 0;
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    std::vector<at::Tensor> maxLogits;
    for (const models::ForwardInputs& batch : batches) {
      models::ForwardInputs inputs;
      inputs.inputIds = batch.inputIds;
      inputs.attentionMask = batch.attentionMask;
      inputs.recordAttentionLogits = true;
      models::ForwardOutputs outputs = model.forward(inputs);
      maxLogits.resize(outputs.maxAttentionLogits.size());
      for (size_t i = 0; i < maxLogits.size(); ++i) {
        const at::Tensor& logits = outputs.maxAttentionLogits[i];
        if (logits.defined()) maxLogits[i] = maxLogits[i].defined() ? at::maximum(maxLogits[i], logits) : logits;
      }
    }
    const int64_t clipped = applyQkClip(model, maxLogits, options, pass == 0 ? 0.0 : kSettledTolerance);
    if (pass == 0) firstPass = clipped;
    if (clipped == 0) break;
  }
  return firstPass;
}

}  // namespace moonlight::train
