#include "analysis/svd_entropy.h"

#include <cmath>
#include <limits>

#include "core/errors.h"

namespace moonlight::analysis {

std::vector<double> svdEntropy(const at::Tensor& weights) {
  if (weights.dim() < 2) fail(ErrorKind::Shape, "SVD entropy needs a matrix or a stack of matrices, got " + std::to_string(weights.dim()) + " dims");
  if (!c10::isFloatingType(weights.scalar_type())) fail(ErrorKind::DType, "SVD entropy needs a floating-point tensor");
  at::NoGradGuard noGrad;
  const int64_t rows = weights.size(-2), cols = weights.size(-1);
  const int64_t n = std::min(rows, cols);
  at::Tensor matrices = weights.detach().to(at::kDouble).reshape({-1, rows, cols});
  std::vector<double> result;
  if (matrices.size(0) == 0) return result;
  if (n <= 1) return std::vector<double>(static_cast<size_t>(matrices.size(0)), 0.0);
  at::Tensor energy = at::linalg_svdvals(matrices).square();   // [M, n]
  at::Tensor total = energy.sum(-1, /*keepdim=*/true);
  at::Tensor p = energy / total.clamp_min(std::numeric_limits<double>::min());
  at::Tensor terms = at::where(p > 0, p * p.log(), at::zeros_like(p));
  at::Tensor entropy = (-terms.sum(-1) / std::log(static_cast<double>(n))).cpu().contiguous();
  at::Tensor zero = (total.squeeze(-1) == 0).cpu();
  for (int64_t i = 0; i < entropy.numel(); ++i) {
    result.push_back(zero[i].item<bool>() ? 0.0 : entropy.data_ptr<double>()[i]);
  }
  return result;
}

}  // namespace moonlight::analysis
