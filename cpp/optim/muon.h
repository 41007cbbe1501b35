// One Muon step over many matrix parameters, Moonlight's rule (Liu et al., "Muon is Scalable for LLM Training", arXiv:2502.16982, §2):
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
  bool recordUpdateRms = false;  // set state->updateRms from the scaled orthogonal update
};

// s(A, B) for one matrix of A rows and B columns.
double updateScaleFactor(UpdateScale scale, int64_t rows, int64_t cols);

void muonStep(const std::vector<MuonTask>& tasks);

// The batches muonStep runs Newton–Schulz on, in order: same-shape matrices (up to orientation) of one group,
// dtype and device, filled up to 64 Mi elements each (a larger parameter forms a batch alone). Only one batch's
// momentum updates and iterates exist at a time, so the largest batch sets the step's extra memory.
std::vector<std::vector<const MuonTask*>> muonBatches(const std::vector<MuonTask>& tasks);

// The pieces of muonStep, for steps that split a matrix's state across data-parallel ranks (cpp/dist):
// M ← μM + G in place on `buffer`, returning the Newton–Schulz input U (G + μM with Nesterov, else M).
// Elementwise, so it applies to any slice of a parameter's momentum and gradient.
at::Tensor applyMomentum(at::Tensor& buffer, const at::Tensor& grad, const MuonHyperParams& muon);
// NewtonSchulz of every matrix of `update` ([..., A, B]: stacks over the leading dims), in ns.dtype, in the
// shape of `update`.
at::Tensor orthogonalize(const at::Tensor& update, const NewtonSchulzConfig& ns);
// W ← W·(1 − η·λ) − η·s(A, B)·O on `param` and the matching `orthogonal` (any same-shape slices of the
// parameter and its orthogonalized update; A×B is the shape of one matrix of the parameter).
void applyOrthogonalUpdate(at::Tensor param, const at::Tensor& orthogonal, const ParamGroupConfig& group, int64_t rows,
                           int64_t cols);

}  // namespace moonlight::optim
