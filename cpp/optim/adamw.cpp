#include "optim/adamw.h"

#include <cmath>

namespace moonlight::optim {

namespace {

at::Tensor perMatrixRms(const at::Tensor& update) {
  at::Tensor squares = update.to(at::kFloat).square();
  if (update.dim() < 2) return squares.mean().sqrt().reshape({1}).to(at::kCPU);
  return squares.reshape({-1, update.size(-2), update.size(-1)}).mean({1, 2}).sqrt().to(at::kCPU);
}

}  // namespace

void adamwStep(ParameterState& state, const ParamGroupConfig& group, const at::Tensor& grad, bool recordUpdateRms) {
  const AdamWHyperParams& hyper = group.adamw;
  at::Tensor& param = state.param;
  state.steps += 1;
  const double step = static_cast<double>(state.steps);
  const double biasCorrection1 = 1.0 - std::pow(hyper.beta1, step);
  const double biasCorrection2 = 1.0 - std::pow(hyper.beta2, step);
  if (group.weightDecay != 0) param.mul_(1.0 - group.lr * group.weightDecay);
  state.expAvg.lerp_(grad, 1.0 - hyper.beta1);
  if (hyper.epsPlacement == AdamEpsPlacement::Torch) {
    // The same sequence of operations as torch.optim.AdamW's single-tensor path, so results agree to
    // float rounding: v ← β2·v + (1 − β2)·g², W ← W − (η/bc1)·m / (√v/√bc2 + eps).
    state.expAvgSq.mul_(hyper.beta2).addcmul_(grad, grad, 1.0 - hyper.beta2);
    at::Tensor denominator = (state.expAvgSq.sqrt() / std::sqrt(biasCorrection2)).add_(hyper.eps);
    if (recordUpdateRms) state.updateRms = perMatrixRms(state.expAvg / denominator / biasCorrection1);
    param.addcdiv_(state.expAvg, denominator, -group.lr / biasCorrection1);
  } else {
    // Moonlight's toy_train.py: eps on the raw √v, bias correction folded into the step size
    // η·√bc2/bc1, so early steps with tiny v behave differently from torch's placement.
    state.expAvgSq.lerp_(grad.square(), 1.0 - hyper.beta2);
    at::Tensor direction = state.expAvg / (state.expAvgSq.sqrt() + hyper.eps);
    if (recordUpdateRms) state.updateRms = perMatrixRms(direction * (std::sqrt(biasCorrection2) / biasCorrection1));
    param.add_(direction, -group.lr * std::sqrt(biasCorrection2) / biasCorrection1);
  }
}

}  // namespace moonlight::optim
