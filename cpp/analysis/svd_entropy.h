// SVD entropy of weight matrices, as the Moonlight paper's spectral analysis defines it (§3, after Alter et
// al. 2000 / Roy & Vetterli 2007): with singular values σ_1..σ_n of an A×B matrix, n = min(A, B),
//   p_i = σ_i² / Σ_j σ_j²,   H = −(1 / log n) · Σ_i p_i log p_i   ∈ [0, 1]
// (terms with p_i = 0 count 0). 1 means all directions carry the same energy, 0 a rank-one matrix. The
// paper's normalisation uses the squared singular values (the energy fractions), not σ_i / Σσ_j.
#pragma once

#include <vector>

#include <ATen/ATen.h>

namespace moonlight::analysis {

// One entropy per matrix of `weights` ([A, B], or a stack [..., A, B] of matrices over the last two
// dims), computed in float64. A zero matrix or n = 1 has entropy 0 by convention.
std::vector<double> svdEntropy(const at::Tensor& weights);

}  // namespace moonlight::analysis
