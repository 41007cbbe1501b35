// One training step of a CausalLM, entirely native: forward (+ DeepSeek's balance loss), backward, the
// gradient norm and optional clipping of the raw gradients, and the aux-loss-free router-bias update.
// Gradients are left on the parameters; an optimizer (cpp/optim's Muon/AdamW) plugs in through
// `optimizerStep`, called after clipping and before the routing-bias update, inside the same native job.
#pragma once

#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "models/common/causal_lm.h"
#include "train/precision.h"
#include "train/qk_clip.h"

namespace moonlight::train {

struct TrainStepOptions {
  Precision precision = Precision::Fp32;
  std::optional<double> maxGradNorm;    // clip the global L2 norm of the raw gradients to this
  std::optional<double> auxLossAlpha;   // balance-loss weight; unset: the config's aux_loss_alpha
  double routerBiasUpdateRate = 1e-3;   // γ of bias_e += γ·sign(mean load − load_e); 0 disables
  // Data parallelism (a distributed optimizer, cpp/dist): replaces the local norm and clipping. Averages the
  // gradients over the ranks, clips them by their global norm when maxGradNorm is set, and returns
  // {norm before clipping, clip coefficient}, so clipping acts on the averaged raw gradients.
  // Data parallelism: sums each MoE layer's expert load over the ranks in place, so every rank moves its
  // routing biases by the same global load and the replicas stay identical.
  std::function<void(std::vector<at::Tensor>& expertLoad)> reduceExpertLoad;
  std::function<std::pair<double, double>(std::optional<double> maxGradNorm)> reduceGradients;
  // Updates the weights from their (clipped) gradients; unset: the step only computes gradients.
  std::function<void(const models::CausalLM&)> optimizerStep;
  // Record each MLA head's max pre-softmax logit in the forward (TrainStepResult::maxAttentionLogits).
  bool recordAttentionLogits = false;
  // QK-Clip after the optimizer step, from this step's max logits (recorded whenever set).
  std::optional<QkClipOptions> qkClip;
  // Diagnostic step: the caller also collects update/weight RMS (step_diagnostics.h); implies the logits.
  bool diagnostics = false;
};

struct TrainStepResult {
  double loss = 0;      // lmLoss + auxLoss: what was differentiated
  double lmLoss = 0;
  double auxLoss = 0;
  double gradNorm = 0;  // global L2 norm before clipping
  double clipCoefficient = 1;
  int64_t tokens = 0;   // labelled tokens that counted in the loss
  std::vector<int64_t> moeLayerIndices;
  std::vector<std::vector<double>> expertLoad;  // per MoE layer: assignments per expert this step
  // When recorded: per layer [H] fp32 max over the micro-batches (undefined on non-MLA layers), measured
  // before the update; and the heads QK-Clip rescaled after it.
  std::vector<at::Tensor> maxAttentionLogits;
  int64_t qkClippedHeads = 0;
};

TrainStepResult runTrainStep(const models::CausalLM& model, const models::ForwardInputs& inputs,
                             const TrainStepOptions& options);

// Gradient accumulation: forward+backward of each micro-batch in turn with its loss scaled by 1/N, so the
// summed gradients are those of the mean loss (the whole batch's loss when the micro-batches count the same
// tokens, as packed sequences do); then one clip, one optimizer step and one routing-bias update from the
// summed expert load. Reported losses are means over the micro-batches, tokens and expert load sums.
TrainStepResult runTrainStep(const models::CausalLM& model, const std::vector<models::ForwardInputs>& microBatches,
                             const TrainStepOptions& options);

}  // namespace moonlight::train
