// Newton–Schulz orthogonalization of a batch of same-shape matrices (Moonlight / Keller Jordan quintic).
// Batching same-shape matrices turns many small matmuls into one bmm per product, and the buffers are
// reused across iterations instead of allocated per product.
#pragma once

#include <ATen/ATen.h>

#include "optim/optimizer_config.h"

namespace moonlight::optim {

// `wide` is [N, m, n] with m ≤ n (the caller transposes tall matrices, so the Gram matrix X·Xᵀ is the
// small m×m side). Each matrix is cast to ns.dtype, divided by (normScale·‖X‖_F + eps) and iterated
// ns.steps times. Returns [N, m, n] in ns.dtype, approximately U·Vᵀ of each matrix's SVD U·S·Vᵀ
// (the KJ coefficients push singular values into roughly [0.7, 1.2], not exactly 1).
at::Tensor newtonSchulz(const at::Tensor& wide, const NewtonSchulzConfig& ns);

}  // namespace moonlight::optim
