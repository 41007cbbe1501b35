// QK-Clip (MuonClip: Kimi K2 technical report, arXiv:2507.20534 §2.1; Megatron-LM's qk_clip.py) for multi-head latent
// attention. After the optimizer step, for every head h whose max pre-softmax logit S_h (measured in this
// step's forward) exceeds τ, with η = τ / S_h:
//   q_nope rows of h ×η^α, q_pe rows of h ×η  (query projection: q_proj, or q_b_proj with q-LoRA),
//   k_nope rows of h in kv_b_proj ×η^(1−α);
// the value rows and the shared rope key (kv_a_proj_with_mqa) stay as they are. The nope logit q_nope·k_nope
// then scales by η, the rope logit q_pe·k_pe by η: the head's logits on the measured activations by exactly η.
#pragma once

#include <vector>

#include <ATen/ATen.h>

#include "core/option_checks.h"
#include "models/common/causal_lm.h"

namespace moonlight::train {

struct QkClipOptions {
  double threshold = 100;  // τ
  double alpha = 0.5;      // α: the share of the nope scaling put on the queries
  // false (Kimi K2, Megatron): η from the logits of the step's own forward, measured before the update, so
  // the update of this step can still push a head past τ. true: the logits are measured again on the step's
  // batch with the updated weights (no-grad forwards) and clipped until every head is ≤ τ there: one or two
  // extra forwards per step for the guarantee.
  bool remeasure = false;
};

// The keys of options.qkClip (core/json_options.h).
template <typename Visit>
void forEachField(QkClipOptions& o, Visit&& field) {
  field("threshold", o.threshold, json_options::kPositive);
  field("alpha", o.alpha, json_options::Range{0, 1, true, true, "a number in [0, 1]"});
  field("remeasure", o.remeasure);
}

// maxLogits[layer]: [H] per MLA layer (undefined for others), as ForwardOutputs::maxAttentionLogits.
// Returns the number of heads clipped.
// Heads within τ·(1 + tolerance) are left alone.
int64_t applyQkClip(const models::CausalLM& model, const std::vector<at::Tensor>& maxLogits, const QkClipOptions& options,
                    double tolerance = 0);

// options.remeasure: forwards over `batches` with the current weights, clipping until no head exceeds τ
// (a clip in layer l changes the inputs of the layers after it, so a second pass settles those). Returns
// the heads clipped in the first pass.
int64_t applyQkClipRemeasured(const models::CausalLM& model, const std::vector<models::ForwardInputs>& batches,
                              const QkClipOptions& options);

}  // namespace moonlight::train
