#include "models/deepseek_v3/moe_router.h"

#include <limits>

namespace moonlight::models {

MoeRouter::MoeRouter(ParameterFactory& factory, const std::string& prefix, const ModelConfig& config)
    : moe_(*config.moe) {
  weight_ = factory.make(prefix + ".weight", {moe_.nRoutedExperts, config.hiddenSize}, InitKind::Normal);
  correctionBias_ = factory.makeState(prefix + ".e_score_correction_bias", {moe_.nRoutedExperts});
}

Routing MoeRouter::operator()(const at::Tensor& x) const {
  const int64_t tokens = x.size(0), experts = moe_.nRoutedExperts;
  // Router maths in fp32 whatever the compute dtype (autocast must not lower it).
  at::Tensor logits;
  {
    c10::impl::ExcludeDispatchKeyGuard noAutocast(c10::autocast_dispatch_keyset);
    logits = at::linear(x.to(at::kFloat), weight_.to(at::kFloat));
  }
  at::Tensor scores = logits.sigmoid();

  at::Tensor choice;
  {
    at::NoGradGuard noGrad;  // selection is discrete: no gradient flows through it
    choice = scores.detach() + correctionBias_;
    if (moe_.nGroup > 1) {
      const int64_t perGroup = experts / moe_.nGroup;
      // Group score = sum of its 2 best choice scores; keep the topk_group best groups.
      at::Tensor groupScores = std::get<0>(choice.view({tokens, moe_.nGroup, perGroup}).topk(2, -1)).sum(-1);
      at::Tensor groupIndices = std::get<1>(groupScores.topk(moe_.topkGroup, -1, /*largest=*/true, /*sorted=*/false));
      at::Tensor groupMask = at::zeros_like(groupScores).scatter_(1, groupIndices, 1.0);
      at::Tensor expertMask = groupMask.unsqueeze(-1).expand({tokens, moe_.nGroup, perGroup}).reshape({tokens, experts});
      choice = choice.masked_fill(expertMask.logical_not(), -std::numeric_limits<float>::infinity());
    }
  }
  at::Tensor indices = std::get<1>(choice.topk(moe_.numExpertsPerTok, -1, /*largest=*/true, /*sorted=*/false));
  at::Tensor weights = scores.gather(1, indices);
  if (moe_.normTopkProb) weights = weights / (weights.sum(-1, /*keepdim=*/true) + 1e-20);
  weights = weights * moe_.routedScalingFactor;
  return {scores, indices, weights};
}

void MoeRouter::updateCorrectionBias(const at::Tensor& load, double rate) const {
  at::NoGradGuard noGrad;
  at::Tensor load32 = load.to(correctionBias_.device(), at::kFloat);
  correctionBias_.add_(at::sign(load32.mean() - load32), rate);
}

}  // namespace moonlight::models
