#include "train/activation_bytes.h"

#include <algorithm>
#include <map>
#include <string>

namespace moonlight::train {

namespace {

constexpr int64_t kFloatBytes = 4;

// Per-step bookkeeping of one model: which linear layers carry an adapter, and the step's shape.
class SavedTensors {
 public:
  SavedTensors(const models::CausalLM& model, const TrainActivationShape& shape)
      : shape_(shape), tokens_(shape.batch * shape.seqLen) {
    for (const auto& slot : model.parameters().loraSlots()) {
      if (slot->active()) adapters_[slot->module] = slot.get();
    }
  }

  int64_t tokens() const { return tokens_; }
  int64_t c() const { return shape_.computeBytes; }

  // RmsNorm: x.to(fp32) is kept by pow and by the multiply with rsqrt; with a trainable gain, also the
  // normalised input cast back to the activation dtype.
  int64_t norm(int64_t dim) const {
    return tokens_ * dim * kFloatBytes + (shape_.weightsTrain ? tokens_ * dim * c() : 0);
  }

  // A linear layer on `in` features for `rows` rows. A trainable weight keeps its input (under autocast each
  // op its own bf16 cast of it; otherwise an input another linear already keeps is not counted again).
  // An adapter (LoraSlot::delta) keeps x cast to the adapters' dtype for A, A·x for B, and with dropout the
  // noise and the dropped-out input instead (ATen's CPU dropout is input · noise, noise in the input's dtype).
  int64_t linear(const std::string& module, int64_t in, int64_t rows, bool inputAlreadyKept = false) const {
    int64_t bytes = 0;
    if (shape_.weightsTrain && (shape_.autocast || !inputAlreadyKept)) bytes += rows * in * c();
    auto found = adapters_.find(module);
    if (found == adapters_.end()) return bytes;
    const models::LoraSlot& slot = *found->second;
    const int64_t adapterBytes = shape_.autocast ? 2 : static_cast<int64_t>(c10::elementSize(slot.a.scalar_type()));
    const int64_t rank = slot.a.size(-2);
    bytes += rows * in * adapterBytes * (shape_.loraDropout > 0 ? 2 : 1) + rows * rank * adapterBytes;
    return bytes;
  }

  // silu(gate) * up: silu keeps the gate output, the product both of its factors.
  int64_t gatedProduct(int64_t rows, int64_t inner) const { return 3 * rows * inner * c(); }

  // A gated MLP (dense layer, shared experts): gate and up read the same input.
  int64_t gatedMlp(const std::string& prefix, int64_t rows, int64_t hidden, int64_t inner) const {
    return linear(prefix + ".gate_proj", hidden, rows) + linear(prefix + ".up_proj", hidden, rows, true) +
           gatedProduct(rows, inner) + linear(prefix + ".down_proj", inner, rows);
  }

 private:
  TrainActivationShape shape_;
  int64_t tokens_;
  std::map<std::string, const models::LoraSlot*> adapters_;
};

int64_t mlaAttention(const SavedTensors& saved, const std::string& prefix, const models::ModelConfig& config) {
  const models::MlaConfig& mla = *config.mla;
  const int64_t n = saved.tokens(), hidden = config.hiddenSize, heads = config.numAttentionHeads;
  const int64_t qkDim = mla.qkNopeHeadDim + mla.qkRopeHeadDim;
  int64_t bytes = 0;
  if (mla.qLoraRank) {
    bytes += saved.linear(prefix + ".q_a_proj", hidden, n) + saved.norm(*mla.qLoraRank) +
             saved.linear(prefix + ".q_b_proj", *mla.qLoraRank, n);
  } else {
    bytes += saved.linear(prefix + ".q_proj", hidden, n);
  }
  bytes += saved.linear(prefix + ".kv_a_proj_with_mqa", hidden, n, /*inputAlreadyKept=*/true);
  bytes += saved.norm(mla.kvLoraRank) + saved.linear(prefix + ".kv_b_proj", mla.kvLoraRank, n);
  // scaled_dot_product_attention (causal, flash kernel) keeps q, k, v, its output and the fp32 log-sum-exp;
  // v is zero-padded to the q/k head size first (models/common/attention.cpp), so all four are n·H·d_qk.
  bytes += 4 * n * heads * qkDim * saved.c() + n * heads * kFloatBytes;
  bytes += saved.linear(prefix + ".o_proj", heads * mla.vHeadDim, n);
  return bytes;
}

int64_t moeBlock(const SavedTensors& saved, const std::string& prefix, const models::ModelConfig& config,
                 bool expertsTrain) {
  const models::MoeConfig& moe = *config.moe;
  const int64_t n = saved.tokens(), hidden = config.hiddenSize, slots = n * moe.numExpertsPerTok;
  // Router: sigmoid keeps its fp32 scores [n, E].
  int64_t bytes = n * moe.nRoutedExperts * kFloatBytes;
  // Routed experts (routed_experts.cpp): the tokens gathered expert-contiguously [n·k, H] are kept by the
  // expert linears when they train, silu·up per slot, and the expert output by its product with the fp32
  // routing weights.
  const std::string experts = prefix + ".experts";
  if (expertsTrain) bytes += slots * hidden * saved.c();
  bytes += saved.linear(experts + ".gate_proj", hidden, slots, expertsTrain) +
           saved.linear(experts + ".up_proj", hidden, slots, true) + saved.gatedProduct(slots, moe.moeIntermediateSize) +
           saved.linear(experts + ".down_proj", moe.moeIntermediateSize, slots);
  bytes += slots * hidden * saved.c();
  if (moe.nSharedExperts > 0) {
    bytes += saved.gatedMlp(prefix + ".shared_experts", n, hidden, moe.moeIntermediateSize * moe.nSharedExperts);
  }
  return bytes;
}

}  // namespace

TrainActivations trainActivationBytes(const models::CausalLM& model, const TrainActivationShape& shape) {
  const models::ModelConfig& config = model.config();
  const SavedTensors saved(model, shape);
  const int64_t n = saved.tokens(), hidden = config.hiddenSize;
  int64_t bytes = 0;
  for (int64_t layer = 0; layer < config.numHiddenLayers; ++layer) {
    const std::string prefix = "model.layers." + std::to_string(layer);
    // The first layer's input is the embedding output, which needs no gradient unless the embedding trains.
    if (layer > 0 || shape.weightsTrain) bytes += saved.norm(hidden);
    if (config.mla) {
      bytes += mlaAttention(saved, prefix + ".self_attn", config);
    } else {
      const int64_t heads = config.numAttentionHeads, kvHeads = config.numKeyValueHeads, d = config.headDim;
      const std::string attention = prefix + ".self_attn";
      bytes += saved.linear(attention + ".q_proj", hidden, n) + saved.linear(attention + ".k_proj", hidden, n, true) +
               saved.linear(attention + ".v_proj", hidden, n, true);
      bytes += (2 * heads + 2 * kvHeads) * n * d * saved.c() + n * heads * kFloatBytes;
      bytes += saved.linear(attention + ".o_proj", heads * d, n);
    }
    bytes += saved.norm(hidden);
    if (config.isMoeLayer(layer)) {
      bytes += moeBlock(saved, prefix + ".mlp", config, shape.weightsTrain);
    } else {
      bytes += saved.gatedMlp(prefix + ".mlp", n, hidden, config.intermediateSize);
    }
  }
  bytes += saved.norm(hidden);
  if (shape.weightsTrain) bytes += n * hidden * saved.c();  // lm_head keeps its input
  // The loss head at its backward peak (causalLmLoss: cross entropy = log_softmax + nll_loss over fp32
  // logits): the returned logits [n, V], the fp32 log-softmax output log_softmax keeps, the nll_loss
  // gradient and the log-softmax gradient being formed.
  TrainActivations activations;
  activations.layersBytes = bytes;
  activations.lossHeadBytes = n * config.vocabSize * (saved.c() + 3 * kFloatBytes);
  return activations;
}

int64_t autocastCopyBytes(const models::CausalLM& model) {
  int64_t numel = 0;
  for (const auto& [name, tensor] : model.parameters().storedTensors(/*trainableOnly=*/false)) {
    const bool router = name.size() >= 12 && name.compare(name.size() - 12, 12, ".gate.weight") == 0;
    if (tensor.dim() >= 2 && name != "model.embed_tokens.weight" && !router) numel += tensor.numel();
  }
  return 2 * numel;
}

int64_t prefillActivationBytes(const models::CausalLM& model, int64_t batch, int64_t promptLength, int64_t capacity) {
  const models::ModelConfig& config = model.config();
  const int64_t c = static_cast<int64_t>(c10::elementSize(model.dtype()));
  const int64_t n = batch * promptLength, hidden = config.hiddenSize;
  // The residual stream: the layer input, the normed input and the residual sum.
  const int64_t stream = 3 * n * hidden * c;
  int64_t layerPeak = 0;
  for (int64_t layer = 0; layer < config.numHiddenLayers; ++layer) {
    if (config.isMoeLayer(layer)) {
      const models::MoeConfig& moe = *config.moe;
      const int64_t slots = n * moe.numExpertsPerTok;
      // Gathered tokens, the experts' concatenated output, its fp32 product with the routing weights, its
      // cast back, and one expert's silu·up (at most every token).
      const int64_t routed = slots * hidden * (3 * c + kFloatBytes) + 3 * n * moe.moeIntermediateSize * c;
      const int64_t shared = 3 * n * moe.moeIntermediateSize * moe.nSharedExperts * c;
      layerPeak = std::max(layerPeak, routed + shared);
    } else {
      layerPeak = std::max(layerPeak, 3 * n * config.intermediateSize * c);  // silu(gate), up, their product
    }
  }
  if (config.mla) {
    // Absorbed MLA over the latent cache (mla_attention.cpp, cached): one shared key head of
    // kv_lora_rank + rope features, queries folded to [B, 1, H·T, ·]; with a mask the attention runs ATen's
    // math kernel, in fp32 on CPU: the scores and their softmax, [B, H·T, S] each, and fp32 q, k, v.
    const models::MlaConfig& mla = *config.mla;
    const int64_t heads = config.numAttentionHeads, width = mla.kvLoraRank + mla.qkRopeHeadDim;
    const int64_t queries = batch * heads * promptLength;
    const int64_t attention = queries * width * (2 * c + kFloatBytes) + queries * capacity * (2 * kFloatBytes + 1) +
                              batch * capacity * width * 2 * kFloatBytes;
    layerPeak = std::max(layerPeak, attention);
  } else {
    const int64_t queries = batch * config.numAttentionHeads * promptLength;
    layerPeak = std::max(layerPeak, queries * capacity * (2 * kFloatBytes + 1) + 3 * queries * config.headDim * kFloatBytes);
  }
  // The last position's logits [B, V] and the sampler's fp32 copy and probabilities.
  const int64_t logits = batch * config.vocabSize * (c + 2 * kFloatBytes);
  return stream + std::max(layerPeak, logits);
}

}  // namespace moonlight::train
