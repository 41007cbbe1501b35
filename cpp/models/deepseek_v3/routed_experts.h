// The routed experts of one MoE layer, stored as 3-D stacks (gate/up [E, I, H], down [E, H, I]) so an
// optimizer can treat each as a batch of E matrices. Tokens are grouped per expert (one stable sort of the
// N·K assignments), each expert runs one SwiGLU on its contiguous slice, and the weighted outputs are
// scattered back with index_add: cost is proportional to the activated parameters, never a per-token loop.
#pragma once

#include <memory>

#include <ATen/ATen.h>

#include "models/common/model_config.h"
#include "models/common/parameters.h"
#include "models/deepseek_v3/moe_router.h"

namespace moonlight::models {

class RoutedExperts {
 public:
  RoutedExperts(ParameterFactory& factory, const std::string& prefix, const ModelConfig& config);

  // x: [N, H]. Returns Σ_k w_k · Expert_{i_k}(x) [N, H] and, through `load`, the number of assignments
  // each expert received [E] (fp32).
  at::Tensor operator()(const at::Tensor& x, const Routing& routing, at::Tensor* load) const;

 private:
  at::Tensor gateProj_;  // [E, I, H]
  at::Tensor upProj_;    // [E, I, H]
  at::Tensor downProj_;  // [E, H, I]
  // Stacked LoRA adapters per projection (active when attached; see models/common/lora.h).
  std::shared_ptr<LoraSlot> gateLora_, upLora_, downLora_;
  int64_t numExperts_;
};

}  // namespace moonlight::models
