#include "models/deepseek_v3/load_balance.h"

namespace moonlight::models {

at::Tensor balanceLoss(const at::Tensor& scores, const at::Tensor& indices, double alpha, bool perSequence) {
  const int64_t experts = scores.size(-1), topK = indices.size(-1);
  at::Tensor groupedScores = perSequence ? scores : scores.reshape({1, -1, experts});
  at::Tensor groupedIndices = perSequence ? indices : indices.reshape({1, -1, topK});
  const int64_t sequences = groupedScores.size(0), tokens = groupedScores.size(1);

  at::Tensor normalised = groupedScores / groupedScores.sum(-1, /*keepdim=*/true);
  at::Tensor meanScore = normalised.mean(1);  // P: [S, E]
  at::Tensor counts = at::zeros({sequences, experts}, scores.options().requires_grad(false));
  counts.scatter_add_(1, groupedIndices.reshape({sequences, -1}),
                      at::ones({sequences, tokens * topK}, scores.options().requires_grad(false)));
  at::Tensor fraction = counts * (static_cast<double>(experts) / static_cast<double>(topK * tokens));  // f
  return (fraction * meanScore).sum(-1).mean() * alpha;
}

}  // namespace moonlight::models
