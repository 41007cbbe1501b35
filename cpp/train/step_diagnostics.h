// The paper's training diagnostics, measured inside a step (on diagnostic steps only): per matrix type the
// RMS of the applied update (after Muon's 0.2·√max(A, B) scaling; AdamW's bias-corrected direction) and of
// the weights; per MLA layer each head's max pre-softmax attention logit; per MoE layer the load balance
// (max/mean tokens per expert) and the spread of the routing biases.
#pragma once

#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "models/common/causal_lm.h"
#include "optim/optimizer.h"
#include "train/train_step.h"

namespace moonlight::train {

struct MatrixTypeStats {
  std::string type;        // analysis::matrixType of the parameters
  std::string optimizer;   // "muon" or "adamw" (the group kind; "mixed" if both hold this type)
  int64_t matrices = 0;    // matrices counted (an [E, out, in] stack counts E)
  double weightRms = 0;    // RMS over all elements of the type's parameters
  // Over the matrices updated this step (absent: updateMatrices == 0).
  int64_t updateMatrices = 0;
  double updateRms = 0;     // RMS over all their update elements
  double updateRmsMin = 0;  // smallest / largest per-matrix update RMS
  double updateRmsMax = 0;
};

struct MoeLayerBalance {
  int64_t layer = 0;
  double loadMaxOverMean = 1;  // max over experts of the tokens routed / the mean (1 = balanced)
  double biasMin = 0;          // e_score_correction_bias range
  double biasMax = 0;
};

struct StepDiagnostics {
  std::vector<MatrixTypeStats> matrixTypes;
  std::vector<int64_t> attentionLayers;               // MLA layers with logits
  std::vector<std::vector<double>> maxAttentionLogits;  // per such layer, per head
  std::vector<MoeLayerBalance> moeLayers;
};

// Grouped update / weight RMS from the optimizer's parameters (updateRms set by a recording step).
std::vector<MatrixTypeStats> matrixTypeStats(const optim::Optimizer& optimizer);

// Per MoE layer balance from the step's summed expert load and the model's current routing biases.
std::vector<MoeLayerBalance> moeLayerBalance(const models::CausalLM& model, const std::vector<int64_t>& moeLayers,
                                             const std::vector<std::vector<double>>& expertLoad);

// Everything above for a finished step (optimizer: null when the step ran none; matrix types then absent).
StepDiagnostics collectDiagnostics(const models::CausalLM& model, const optim::Optimizer* optimizer,
                                   const TrainStepResult& result);

}  // namespace moonlight::train
