// DeepSeek-V3's complementary balance loss (paper eq. 17–20). With sigmoid scores s, each token's scores
// are normalised s' = s / Σ_j s_j; for expert i
//   f_i = E / (K·T) · #{tokens of the sequence that chose i},   P_i = mean over the sequence of s'_i,
//   L = α · Σ_i f_i · P_i, averaged over the sequences of the batch (seq_aux = true), or computed once over
//   all B·T tokens as one sequence (seq_aux = false). f is a count: only P carries gradient (to the router).
#pragma once

#include <ATen/ATen.h>

namespace moonlight::models {

// scores [B, T, E] fp32, indices [B, T, K]; returns a scalar.
at::Tensor balanceLoss(const at::Tensor& scores, const at::Tensor& indices, double alpha, bool perSequence);

}  // namespace moonlight::models
