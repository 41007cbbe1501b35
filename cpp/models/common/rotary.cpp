#include "models/common/rotary.h"

#include <algorithm>
#include <cmath>

namespace moonlight::models {

namespace {

// theta^(2i/dim) for i = 0..dim/2-1, computed in fp32 as transformers does (the bits matter for parity).
at::Tensor frequencyBases(double theta, int64_t dim) {
  at::Tensor exponents = at::arange(0, dim, 2, at::TensorOptions().dtype(at::kLong)).to(at::kFloat) / static_cast<double>(dim);
  return at::pow(theta, exponents);
}

// scalar / tensor the way torch evaluates `python_float / fp32_tensor` (scalar rounded to fp32, then divided).
at::Tensor scalarOver(double scalar, const at::Tensor& tensor) { return at::full_like(tensor, scalar) / tensor; }

at::Tensor defaultInvFreq(double theta, int64_t dim) { return scalarOver(1.0, frequencyBases(theta, dim)); }

at::Tensor llama3InvFreq(const RopeConfig& rope, int64_t dim) {
  at::Tensor invFreq = defaultInvFreq(rope.theta, dim);
  const double oldContext = static_cast<double>(rope.originalMaxPositionEmbeddings);
  const double lowFreqWavelen = oldContext / rope.lowFreqFactor;
  const double highFreqWavelen = oldContext / rope.highFreqFactor;
  at::Tensor wavelen = scalarOver(2 * M_PI, invFreq);
  // Long wavelengths are divided by the factor, short ones kept, the band between blended smoothly.
  at::Tensor scaled = at::where(wavelen > lowFreqWavelen, invFreq / rope.factor, invFreq);
  at::Tensor smooth = (scalarOver(oldContext, wavelen) - rope.lowFreqFactor) / (rope.highFreqFactor - rope.lowFreqFactor);
  at::Tensor blended = (1 - smooth) * scaled / rope.factor + smooth * scaled;
  at::Tensor isMedium = at::logical_not(wavelen < highFreqWavelen).logical_and(at::logical_not(wavelen > lowFreqWavelen));
  return at::where(isMedium, blended, scaled);
}

double correctionDim(double rotations, int64_t dim, double theta, double maxPositions) {
  return (static_cast<double>(dim) * std::log(maxPositions / (rotations * 2 * M_PI))) / (2 * std::log(theta));
}

at::Tensor yarnInvFreq(const RopeConfig& rope, int64_t dim) {
  at::Tensor bases = frequencyBases(rope.theta, dim);
  at::Tensor extrapolation = scalarOver(1.0, bases);
  at::Tensor interpolation = scalarOver(1.0, rope.factor * bases);
  const double original = static_cast<double>(rope.originalMaxPositionEmbeddings);
  double low = correctionDim(rope.betaFast, dim, rope.theta, original);
  double high = correctionDim(rope.betaSlow, dim, rope.theta, original);
  if (rope.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(dim - 1));
  if (low == high) high += 0.001;  // avoids a division by zero in the ramp
  at::Tensor ramp = ((at::arange(dim / 2, at::TensorOptions().dtype(at::kFloat)) - low) / (high - low)).clamp(0, 1);
  at::Tensor extrapolationWeight = 1 - ramp;
  return interpolation * (1 - extrapolationWeight) + extrapolation * extrapolationWeight;
}

}  // namespace

double yarnMscale(double scale, double mscale) {
  if (scale <= 1) return 1.0;
  return 0.1 * mscale * std::log(scale) + 1.0;
}

RotaryEmbedding::RotaryEmbedding(const RopeConfig& rope, int64_t dim) {
  if (rope.type == "linear") {
    invFreq_ = defaultInvFreq(rope.theta, dim) / rope.factor;
  } else if (rope.type == "llama3") {
    invFreq_ = llama3InvFreq(rope, dim);
  } else if (rope.type == "yarn") {
    invFreq_ = yarnInvFreq(rope, dim);
    if (rope.attentionFactor) {
      attentionFactor_ = *rope.attentionFactor;
    } else if (rope.mscale != 0 && rope.mscaleAllDim != 0) {
      attentionFactor_ = yarnMscale(rope.factor, rope.mscale) / yarnMscale(rope.factor, rope.mscaleAllDim);
    } else {
      attentionFactor_ = yarnMscale(rope.factor, 1.0);
    }
  } else {
    invFreq_ = defaultInvFreq(rope.theta, dim);
  }
}

RotaryTables RotaryEmbedding::tables(int64_t seqLen, const at::Device& device, at::ScalarType dtype) const {
  at::Tensor positions = at::arange(seqLen, at::TensorOptions().dtype(at::kFloat).device(device));
  at::Tensor angles = at::outer(positions, invFreq_.to(device));  // [T, dim/2], fp32
  return {(angles.cos() * attentionFactor_).to(dtype), (angles.sin() * attentionFactor_).to(dtype)};
}

RotaryTables RotaryEmbedding::tablesAt(const at::Tensor& positions, at::ScalarType dtype) const {
  // positions · inv_freq elementwise in fp32: the same products as tables()' outer product.
  at::Tensor angles = positions.to(at::kFloat).unsqueeze(-1) * invFreq_.to(positions.device());  // [B, T, dim/2]
  angles = angles.unsqueeze(1);
  return {(angles.cos() * attentionFactor_).to(dtype), (angles.sin() * attentionFactor_).to(dtype)};
}

at::Tensor applyRotaryInterleaved(const at::Tensor& x, const RotaryTables& tables) {
  // [..., d] → [..., d/2, 2] → evens, odds (unbind: its backward is one stack, not two zero-filled slices).
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape.back() = x.size(-1) / 2;
  shape.push_back(2);
  std::vector<at::Tensor> pairs = x.reshape(shape).unbind(-1);
  const at::Tensor& even = pairs[0];
  const at::Tensor& odd = pairs[1];
  return at::cat({even * tables.cos - odd * tables.sin, odd * tables.cos + even * tables.sin}, -1);
}

at::Tensor applyRotaryHalf(const at::Tensor& x, const RotaryTables& tables) {
  std::vector<at::Tensor> halves = x.chunk(2, -1);
  const at::Tensor& first = halves[0];
  const at::Tensor& second = halves[1];
  return at::cat({first * tables.cos - second * tables.sin, second * tables.cos + first * tables.sin}, -1);
}

}  // namespace moonlight::models
