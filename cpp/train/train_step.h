// The gradient half of a training step of a CausalLM: forward (+ DeepSeek's balance loss) and backward of
// every micro-batch, each loss weighted so that the summed gradients are those of the whole (global) batch.
// Gradients are left on the parameters; train/step_runner.h composes the rest of the step (reduction,
// clipping, the optimizer, QK-Clip, the routing-bias update, diagnostics).
#pragma once

#include <optional>
#include <vector>

#include "core/option_checks.h"
#include "dist/process_group.h"
#include "models/common/causal_lm.h"
#include "train/precision.h"
#include "train/qk_clip.h"

namespace moonlight::train {

struct TrainStepOptions {
  Precision precision = Precision::Fp32;
  std::optional<double> maxGradNorm;    // clip the global L2 norm of the raw gradients to this
  std::optional<double> auxLossAlpha;   // balance-loss weight; unset: the config's aux_loss_alpha
  double routerBiasUpdateRate = 1e-3;   // γ of bias_e += γ·sign(mean load − load_e); 0 disables
  // Record each MLA head's max pre-softmax logit in the forward (TrainStepResult::maxAttentionLogits).
  bool recordAttentionLogits = false;
  // QK-Clip after the optimizer step, from this step's max logits (recorded whenever set).
  std::optional<QkClipOptions> qkClip;
  // Diagnostic step: update/weight RMS are recorded as well (step_diagnostics.h); implies the logits.
  bool diagnostics = false;
};

// The keys of a step's options (src/models/native.ts's NativeTrainStepOptions; core/json_options.h).
template <typename Visit>
void forEachField(TrainStepOptions& o, Visit&& field) {
  field("precision", o.precision);
  field("maxGradNorm", o.maxGradNorm, json_options::kFinite);
  field("auxLossAlpha", o.auxLossAlpha, json_options::kFinite);
  field("routerBiasUpdateRate", o.routerBiasUpdateRate, json_options::kFinite);
  field("recordAttentionLogits", o.recordAttentionLogits);
  field("qkClip", o.qkClip);
  field("diagnostics", o.diagnostics);
}

struct TrainStepResult {
  double loss = 0;      // lmLoss + auxLoss: what was differentiated
  double lmLoss = 0;    // token-weighted mean over the whole (global) batch
  double auxLoss = 0;   // mean over the micro-batches (and ranks)
  double gradNorm = 0;  // global L2 norm before clipping
  double clipCoefficient = 1;
  int64_t tokens = 0;   // labelled tokens that counted in the loss, over the whole (global) batch
  std::vector<int64_t> moeLayerIndices;
  std::vector<std::vector<double>> expertLoad;  // per MoE layer: assignments per expert this step (all ranks)
  // When recorded: per layer [H] fp32 max over the micro-batches (undefined on non-MLA layers), measured
  // before the update; and the heads QK-Clip rescaled after it.
  std::vector<at::Tensor> maxAttentionLogits;
  int64_t qkClippedHeads = 0;
};

// What the backward passes leave besides the gradients: this rank's sums, not yet reduced over ranks.
struct AccumulatedGradients {
  double lmLossSum = 0;          // Σ_i loss_i·n_i: the summed token losses of this rank's micro-batches
  double auxLossMean = 0;        // Σ_i aux_i / M
  int64_t globalTokens = 0;      // N: labelled tokens of every micro-batch on every rank
  std::vector<int64_t> moeLayerIndices;
  std::vector<at::Tensor> expertLoad;  // per MoE layer, summed over this rank's micro-batches
  std::vector<at::Tensor> maxAttentionLogits;
};

// Labelled tokens of a micro-batch: labels[:, 1:] != -100 (position t is scored against token t+1).
int64_t labelledTokens(const models::ForwardInputs& inputs);

// Forward + backward of each micro-batch in turn. The LM loss of micro-batch i (a mean over its n_i labelled
// tokens) gets weight n_i·W/N, N the labelled tokens of the whole global batch (one all-reduce over
// `dataParallel` before any backward when given; W its world size, else 1): after the optimizer averages the
// gradients over the W ranks, Σ_r Σ_i (n_i·W/N)·(S_i/n_i) / W = Σ S / N, the gradient of the global batch's
// token mean, whatever the padding. The balance loss keeps weight 1/M per micro-batch. Equal token counts
// (packed sequences) give exactly 1/M.
AccumulatedGradients accumulateGradients(const models::CausalLM& model,
                                         const std::vector<models::ForwardInputs>& microBatches,
                                         const TrainStepOptions& options, dist::ProcessGroup* dataParallel);

}  // namespace moonlight::train
