// The small building blocks shared by every model: a linear layer (y = x Wᵀ + b, W stored [out, in] as in
// nn.Linear) and RMSNorm computed as transformers does it.
#pragma once

#include <memory>
#include <string>

#include <ATen/ATen.h>

#include "models/common/parameters.h"

namespace moonlight::models {

struct Linear {
  at::Tensor weight;  // [out, in]
  at::Tensor bias;    // [out] or undefined
  std::shared_ptr<LoraSlot> lora;  // its LoRA adapter when one is attached (models/common/lora.h)

  static Linear make(ParameterFactory& factory, const std::string& name, int64_t in, int64_t out, bool bias);
  at::Tensor operator()(const at::Tensor& x) const {
    at::Tensor y = at::linear(x, weight, bias);
    return lora && lora->active() ? LoraSlot::addDelta(y, lora->delta(x)) : y;
  }
  // W, or W + s·BA while an adapter is attached: for code that uses the weight matrix itself.
  at::Tensor effectiveWeight() const {
    return lora && lora->active() ? weight + lora->weightDelta().to(weight.scalar_type()) : weight;
  }
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
