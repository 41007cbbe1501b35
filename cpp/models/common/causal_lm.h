// A decoder-only language model (DeepSeek-V3/Moonlight, Qwen2, Llama) as transformers' *ForCausalLM
// computes it: embeddings → decoder layers → final RMSNorm → lm_head, with the shifted cross-entropy loss
// (labels -100 ignored, mean over the remaining tokens).
#pragma once

#include <mutex>
#include <vector>

#include "models/common/decoder_layer.h"
#include "models/common/model_config.h"
#include "models/common/parameters.h"
#include "models/common/rotary.h"

namespace moonlight::models {

struct ForwardInputs {
  at::Tensor inputIds;       // [B, T] integer
  at::Tensor attentionMask;  // [B, T] 1 = token, 0 = padding; optional
  at::Tensor labels;         // [B, T] integer, -100 = ignored; optional
  double auxLossAlpha = 0;   // > 0: compute DeepSeek's balance loss on every MoE layer
  bool collectMoeStats = false;
  bool recordAttentionLogits = false;  // fill ForwardOutputs::maxAttentionLogits (MLA layers)
};

struct ForwardOutputs {
  at::Tensor logits;   // [B, T, V]
  at::Tensor loss;     // LM loss (scalar) when labels were given
  at::Tensor auxLoss;  // sum of the MoE layers' balance losses when asked for
  std::vector<int64_t> moeLayerIndices;
  std::vector<MoeLayerStats> moeStats;  // one per MoE layer when collectMoeStats
  // Per layer when recordAttentionLogits: each head's max pre-softmax logit [H] fp32 (undefined on non-MLA layers).
  std::vector<at::Tensor> maxAttentionLogits;
};

class CausalLM {
 public:
  // `init`: Uninitialised when a checkpoint will fill every weight (models/common/pretrained_weights.h).
  CausalLM(ModelConfig config, at::TensorOptions options, uint64_t seed, WeightInit init = WeightInit::Random);

  // Validates the inputs (ArgumentError naming the argument) and runs the model. Autograd records the
  // graph unless the caller disabled it.
  ForwardOutputs forward(const ForwardInputs& inputs) const;

  // Incremental decoding: runs T new tokens ids [B, T] at positions [B, T] (tokenMask [B, T], 1 = token;
  // undefined when every one is a token)
  // against `cache`, which they extend, and returns the logits of the last of them, [B, V]. No validation
  // beyond shapes: the generator checks its inputs once.
  at::Tensor forwardCached(const at::Tensor& ids, const at::Tensor& positions, const at::Tensor& tokenMask,
                           KvCache& cache) const;

  const ModelConfig& config() const { return config_; }
  const ParameterList& parameters() const { return parameters_; }
  ParameterList& mutableParameters() { return parameters_; }  // freezing changes which tensors train
  const std::vector<DecoderLayer>& layers() const { return layers_; }
  bool training() const { return training_; }
  void setTraining(bool training) { training_ = training; }
  at::Device device() const { return embedTokens_.device(); }
  at::ScalarType dtype() const { return embedTokens_.scalar_type(); }
  // Serialises native jobs on this model (forward, train step, loading): one at a time.
  std::mutex& mutex() const { return mutex_; }

 private:
  void checkInputs(const ForwardInputs& inputs) const;

  ModelConfig config_;
  ParameterList parameters_;
  at::Tensor embedTokens_;  // [V, H]
  std::vector<DecoderLayer> layers_;
  RmsNorm norm_;
  at::Tensor lmHead_;  // [V, H]; the embedding itself when tie_word_embeddings
  RotaryEmbedding rotary_;
  bool training_ = true;  // like a freshly built nn.Module
  mutable std::mutex mutex_;
};

// Shifted next-token cross entropy in fp32: logits[:, t] predicts labels[:, t+1].
at::Tensor causalLmLoss(const at::Tensor& logits, const at::Tensor& labels);

}  // namespace moonlight::models
