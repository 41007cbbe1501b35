// One Muon step over many matrix parameters, Moonlight's rule (shared/docs/muon.md §1):
//   M ← μM + G;  U = G + μM (Nesterov) or M;  O = NewtonSchulz(U);
//   W ← W·(1 − η·λ);  W ← W − η·s(A, B)·O
// Parameters with ≥ 3 dims are stacks of matrices over the last two dims (an [E, out, in] expert stack is
// E matrices), each orthogonalized on its own and scaled by its own (out, in). Matrices of the same
// (oriented) shape and group are orthogonalized together in one batched Newton–Schulz.
#pragma once

#include <vector>

#include <ATen/ATen.h>

#include "optim/optimizer_config.h"
#include "optim/optimizer_state.h"

namespace moonlight::optim {

struct MuonTask {
  ParameterState* state;
  const ParamGroupConfig* group;
  size_t groupIndex;
  at::Tensor grad;  // same shape, dtype and device as state->param (checked by the caller)
};

// s(A, B) for one matrix of A rows and B columns.
double updateScaleFactor(UpdateScale scale, int64_t rows, int64_t cols);

void muonStep(const std::vector<MuonTask>& tasks);

}  // namespace moonlight::optim
