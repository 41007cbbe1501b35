#include "infer/sampling.h"

#include <ATen/CPUGeneratorImpl.h>
#include <limits>

namespace moonlight::infer {

at::Tensor pickTokens(const at::Tensor& logits, const SamplingOptions& options, at::Generator& generator) {
  // Sampling runs in fp32 on the CPU: [B, V] is small, and one CPU generator gives the same stream on any device.
  at::Tensor scores = logits.to(at::kCPU, at::kFloat);
  if (options.temperature == 0) return scores.argmax(-1);
  scores = scores / options.temperature;
  const double removed = -std::numeric_limits<double>::infinity();
  if (options.topK > 0 && options.topK < scores.size(-1)) {
    at::Tensor kth = std::get<0>(scores.topk(options.topK, -1)).narrow(-1, options.topK - 1, 1);
    scores = scores.masked_fill(scores < kth, removed);
  }
  if (options.topP < 1) {
    // Keep the smallest set of most likely tokens whose probability reaches top_p (always at least one).
    auto [sorted, order] = scores.sort(-1, /*descending=*/true);
    at::Tensor cumulative = sorted.softmax(-1).cumsum(-1);
    at::Tensor dropSorted = (cumulative - sorted.softmax(-1)) >= options.topP;  // mass before this token already ≥ p
    at::Tensor drop = at::zeros_like(dropSorted).scatter(-1, order, dropSorted);
    scores = scores.masked_fill(drop, removed);
  }
  return at::multinomial(scores.softmax(-1), 1, /*replacement=*/false, generator).squeeze(-1);
}

}  // namespace moonlight::infer
