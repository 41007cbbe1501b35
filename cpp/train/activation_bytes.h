// The activation memory of a train step and of a generation's prefill, read off what our forward and
// backward keep (cpp/models/**): autograd's saved tensors per layer plus the loss head's peak, and for
// generation the largest transient of one layer. Each formula below names the op whose saved tensor it counts.
#pragma once

#include <cstdint>

#include "models/common/causal_lm.h"

namespace moonlight::train {

struct TrainActivationShape {
  int64_t batch = 1, seqLen = 1;  // one micro-batch, without padding
  int64_t computeBytes = 4;       // an activation element: the weights' dtype, or 2 under bf16 autocast
  bool autocast = false;      // bf16-mixed: matmul inputs and weights are cast to bf16 per op and saved
  bool weightsTrain = false;  // full training: every linear keeps its input for the weight gradient
  double loraDropout = 0;     // > 0: each adapter keeps its dropout noise and output (CPU's dropout)
};

// Saved-for-backward bytes of one step at the start of backward (where the loss head peaks). LoRA adapters are
// read off the model's attached slots.
struct TrainActivations {
  int64_t layersBytes = 0;    // every layer's saved tensors, the final norm's and the LM head's input
  int64_t lossHeadBytes = 0;  // the logits, and the fp32 log-softmax, its gradient and the incoming gradient over the vocabulary
  int64_t totalBytes() const { return layersBytes + lossHeadBytes; }
};
TrainActivations trainActivationBytes(const models::CausalLM& model, const TrainActivationShape& shape);

// bf16 copies autocast keeps for backward: every matrix a linear reads (not the embedding, not the router,
// which runs in fp32), cast once per step.
int64_t autocastCopyBytes(const models::CausalLM& model);

// The largest live set of one cached prefill of promptLength tokens (no autograd): a layer's transients
// next to the residual stream, or the last position's logits and the sampler's fp32 copies.
int64_t prefillActivationBytes(const models::CausalLM& model, int64_t batch, int64_t promptLength, int64_t capacity);

}  // namespace moonlight::train
