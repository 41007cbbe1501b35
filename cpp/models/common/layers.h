// The small building blocks shared by every model: a linear layer (y = x Wᵀ + b, W stored [out, in] as in
// nn.Linear) and RMSNorm computed as transformers does it.
#pragma once

#include <string>

#include <ATen/ATen.h>

#include "models/common/parameters.h"

namespace moonlight::models {

struct Linear {
  at::Tensor weight;  // [out, in]
  at::Tensor bias;    // [out] or undefined

  static Linear make(ParameterFactory& factory, const std::string& name, int64_t in, int64_t out, bool bias);
  at::Tensor operator()(const at::Tensor& x) const { return at::linear(x, weight, bias); }
};

// RMSNorm(x) = γ ⊙ cast_back(x₃₂ · rsqrt(mean(x₃₂²) + ε)): normalised in fp32, cast back to the input dtype
// *before* the γ multiply (this order matters in bf16).
struct RmsNorm {
  at::Tensor weight;  // [dim], initialised to ones
  double eps = 1e-6;

  static RmsNorm make(ParameterFactory& factory, const std::string& name, int64_t dim, double eps);
  at::Tensor operator()(const at::Tensor& x) const;
};

// The SwiGLU MLP of Llama/Qwen2/DeepSeek: down(silu(gate(x)) ⊙ up(x)).
struct GatedMlp {
  Linear gateProj, upProj, downProj;

  static GatedMlp make(ParameterFactory& factory, const std::string& prefix, int64_t hidden, int64_t intermediate,
                       bool bias);
  at::Tensor operator()(const at::Tensor& x) const { return downProj(at::silu(gateProj(x)) * upProj(x)); }
};

}  // namespace moonlight::models
