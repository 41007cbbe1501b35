// The MoE feed-forward of a DeepSeek-V3 layer: routed experts weighted by the router plus the shared
// experts (one SwiGLU of width n_shared_experts · moe_intermediate_size) applied to every token.
#pragma once

#include <optional>

#include "models/common/layers.h"
#include "models/deepseek_v3/moe_router.h"
#include "models/deepseek_v3/routed_experts.h"

namespace moonlight::models {

// What one MoE layer reports for the training step.
struct MoeLayerStats {
  at::Tensor load;     // [E] fp32: assignments per expert in this forward
  at::Tensor auxLoss;  // scalar (with grad) when the balance loss was asked for, else undefined
};

class MoeBlock {
 public:
  MoeBlock(ParameterFactory& factory, const std::string& prefix, const ModelConfig& config);

  // x: [B, T, H]. With auxLossAlpha > 0 and stats given, stats->auxLoss is the balance loss.
  at::Tensor operator()(const at::Tensor& x, double auxLossAlpha, MoeLayerStats* stats) const;

  const MoeRouter& router() const { return router_; }

 private:
  MoeRouter router_;
  RoutedExperts experts_;
  std::optional<GatedMlp> sharedExperts_;
  MoeConfig moe_;
};

}  // namespace moonlight::models
