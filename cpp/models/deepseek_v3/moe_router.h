// DeepSeek-V3's router ("noaux_tc"): sigmoid scores in fp32; e_score_correction_bias is added only to
// *choose* experts (group-limited top-k), the weights come from the unbiased scores, are renormalised when
// norm_topk_prob is set, and scaled by routed_scaling_factor.
#pragma once

#include <ATen/ATen.h>

#include "models/common/model_config.h"
#include "models/common/parameters.h"

namespace moonlight::models {

struct Routing {
  at::Tensor scores;   // [N, E] fp32 sigmoid scores (unbiased), kept for the balance loss
  at::Tensor indices;  // [N, K] int64 chosen experts (order unspecified)
  at::Tensor weights;  // [N, K] fp32 combine weights
};

class MoeRouter {
 public:
  MoeRouter(ParameterFactory& factory, const std::string& prefix, const ModelConfig& config);
  Routing operator()(const at::Tensor& x) const;  // x: [N, H]

  // bias_e += rate · sign(mean(load) − load_e): the aux-loss-free balancing update (no gradient involved).
  void updateCorrectionBias(const at::Tensor& load, double rate) const;
  const at::Tensor& correctionBias() const { return correctionBias_; }

 private:
  at::Tensor weight_;          // [E, H]  mlp.gate.weight
  at::Tensor correctionBias_;  // [E] fp32 mlp.gate.e_score_correction_bias (state, not a parameter)
  MoeConfig moe_;
};

}  // namespace moonlight::models
