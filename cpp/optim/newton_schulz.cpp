#include "optim/newton_schulz.h"

#include <algorithm>
#include <utility>

#include "core/errors.h"

namespace moonlight::optim {

at::Tensor newtonSchulz(const at::Tensor& wide, const NewtonSchulzConfig& ns) {
  if (wide.dim() != 3 || wide.size(1) > wide.size(2)) {
    fail(ErrorKind::Shape, "newtonSchulz expects a batch [N, m, n] of wide matrices (m ≤ n), got " +
                               c10::str(wide.sizes()));
  }
  if (ns.coefficients.empty()) fail(ErrorKind::Config, "newtonSchulz: no coefficients");
  // Frobenius normalisation per matrix (never across the batch: each expert is its own matrix). Cast
  // first and normalise in the NS dtype, in Moonlight's order of operations, so bf16 results agree with
  // Moonlight's to the bit rather than only to bf16 noise (which the iteration amplifies to ~1e-2).
  at::Tensor x = wide.to(ns.dtype).contiguous();  // the norm sums in memory order: make it the wide one
  at::Tensor norms = at::linalg_vector_norm(x, 2, at::IntArrayRef{1, 2}, /*keepdim=*/true);
  if (ns.normScale != 1.0) norms = norms * ns.normScale;
  x = x / (norms + ns.eps);

  const int64_t batch = wide.size(0);
  const int64_t rows = wide.size(1);
  at::Tensor gram = at::empty({batch, rows, rows}, x.options());
  at::Tensor polynomial = at::empty({batch, rows, rows}, x.options());
  at::Tensor next = at::empty_like(x);
  const int64_t lastTriple = static_cast<int64_t>(ns.coefficients.size()) - 1;
  for (int64_t step = 0; step < ns.steps; ++step) {
    const NsCoefficients& k = ns.coefficients[std::min(step, lastTriple)];
    at::bmm_out(gram, x, x.transpose(1, 2));                                // A = X·Xᵀ
    at::baddbmm_out(polynomial, gram, gram, gram, /*beta=*/k.b, /*alpha=*/k.c);  // b·A + c·A²
    at::baddbmm_out(next, x, polynomial, x, /*beta=*/k.a, /*alpha=*/1.0);    // a·X + (b·A + c·A²)·X
    std::swap(x, next);
  }
  return x;
}

}  // namespace moonlight::optim
