#include "models/common/causal_lm.h"

#include "core/errors.h"
#include "models/common/attention.h"

namespace moonlight::models {

namespace {

constexpr int64_t kIgnoreIndex = -100;

void checkTokenTensor(const at::Tensor& tensor, const char* name) {
  if (tensor.dim() != 2) {
    fail(ErrorKind::Shape, std::string(name) + " must be 2-D [batch, sequence], got shape " + c10::str(tensor.sizes()));
  }
  if (c10::isFloatingType(tensor.scalar_type()) || tensor.scalar_type() == at::kBool) {
    fail(ErrorKind::DType, std::string(name) + " must hold integers, got " + std::string(c10::toString(tensor.scalar_type())));
  }
}

}  // namespace

CausalLM::CausalLM(ModelConfig config, at::TensorOptions options, uint64_t seed, WeightInit init)
    : config_(std::move(config)) {
  config_.validate();
  ParameterFactory factory(parameters_, options, seed, config_.initializerRange, init);
  embedTokens_ = factory.make("model.embed_tokens.weight", {config_.vocabSize, config_.hiddenSize}, InitKind::Normal,
                              /*isEmbedding=*/true);
  if (config_.padTokenId) {
    at::NoGradGuard noGrad;  // transformers zeroes the padding row of the embedding at init
    embedTokens_[*config_.padTokenId].zero_();
  }
  layers_.reserve(config_.numHiddenLayers);
  for (int64_t layer = 0; layer < config_.numHiddenLayers; ++layer) layers_.emplace_back(factory, layer, config_);
  norm_ = RmsNorm::make(factory, "model.norm", config_.hiddenSize, config_.rmsNormEps);
  lmHead_ = config_.tieWordEmbeddings
                ? embedTokens_
                : factory.make("lm_head.weight", {config_.vocabSize, config_.hiddenSize}, InitKind::Normal, true);
  const int64_t rotaryDim = config_.mla ? config_.mla->qkRopeHeadDim : config_.headDim;
  rotary_ = RotaryEmbedding(config_.rope, rotaryDim);
}

void CausalLM::checkInputs(const ForwardInputs& inputs) const {
  checkTokenTensor(inputs.inputIds, "inputIds");
  const int64_t seqLen = inputs.inputIds.size(1);
  if (inputs.inputIds.size(0) == 0 || seqLen == 0) fail(ErrorKind::Shape, "inputIds must not be empty");
  if (seqLen > config_.maxPositionEmbeddings) {
    fail(ErrorKind::Argument, "inputIds has sequence length " + std::to_string(seqLen) +
                                  ", longer than max_position_embeddings (" +
                                  std::to_string(config_.maxPositionEmbeddings) + ")");
  }
  const int64_t low = inputs.inputIds.min().item<int64_t>(), high = inputs.inputIds.max().item<int64_t>();
  if (low < 0 || high >= config_.vocabSize) {
    fail(ErrorKind::Argument, "inputIds holds token id " + std::to_string(low < 0 ? low : high) +
                                  ", outside the vocabulary [0, vocab_size=" + std::to_string(config_.vocabSize) + ")");
  }
  for (const auto& [tensor, name] : {std::pair{inputs.attentionMask, "attentionMask"}, std::pair{inputs.labels, "labels"}}) {
    if (!tensor.defined()) continue;
    if (!tensor.sizes().equals(inputs.inputIds.sizes())) {
      fail(ErrorKind::Shape, std::string(name) + " has shape " + c10::str(tensor.sizes()) + " but inputIds has " +
                                 c10::str(inputs.inputIds.sizes()));
    }
  }
  if (inputs.labels.defined()) {
    checkTokenTensor(inputs.labels, "labels");
    at::Tensor valid = inputs.labels.ne(kIgnoreIndex);
    if (valid.any().item<bool>()) {
      at::Tensor used = inputs.labels.masked_select(valid);
      const int64_t lo = used.min().item<int64_t>(), hi = used.max().item<int64_t>();
      if (lo < 0 || hi >= config_.vocabSize) {
        fail(ErrorKind::Argument, "labels holds " + std::to_string(lo < 0 ? lo : hi) +
                                      ": expected token ids in [0, vocab_size=" + std::to_string(config_.vocabSize) +
                                      ") or -100 (ignored)");
      }
    }
  }
}

ForwardOutputs CausalLM::forward(const ForwardInputs& inputs) const {
  checkInputs(inputs);
  const at::Device dev = device();
  at::Tensor ids = inputs.inputIds.to(dev, at::kLong);
  const int64_t seqLen = ids.size(1);
  at::Tensor mask = inputs.attentionMask.defined() ? buildAttentionMask(inputs.attentionMask.to(dev), seqLen) : at::Tensor();

  at::Tensor hidden = at::embedding(embedTokens_, ids);
  RotaryTables rotary = rotary_.tables(seqLen, dev, hidden.scalar_type());
  ForwardOutputs outputs;
  for (size_t index = 0; index < layers_.size(); ++index) {
    const bool isMoe = layers_[index].moe() != nullptr;
    MoeLayerStats stats;
    const bool wantStats = isMoe && (inputs.collectMoeStats || inputs.auxLossAlpha > 0);
    at::Tensor maxLogits;
    hidden = layers_[index](hidden, rotary, mask, inputs.auxLossAlpha, wantStats ? &stats : nullptr,
                            inputs.recordAttentionLogits ? &maxLogits : nullptr);
    if (inputs.recordAttentionLogits) outputs.maxAttentionLogits.push_back(maxLogits);
    if (!isMoe) continue;
    outputs.moeLayerIndices.push_back(static_cast<int64_t>(index));
    if (stats.auxLoss.defined()) outputs.auxLoss = outputs.auxLoss.defined() ? outputs.auxLoss + stats.auxLoss : stats.auxLoss;
    if (inputs.collectMoeStats) outputs.moeStats.push_back(std::move(stats));
  }
  outputs.logits = at::linear(norm_(hidden), lmHead_);
  if (inputs.labels.defined()) outputs.loss = causalLmLoss(outputs.logits, inputs.labels.to(dev, at::kLong));
  return outputs;
}

at::Tensor CausalLM::forwardCached(const at::Tensor& ids, const at::Tensor& positions, const at::Tensor& tokenMask,
                                   KvCache& cache) const {
  const int64_t start = cache.length();
  at::Tensor mask = cache.appendMask(tokenMask, ids.size(1));
  at::Tensor hidden = at::embedding(embedTokens_, ids);
  RotaryTables rotary = rotary_.tablesAt(positions, hidden.scalar_type());
  for (size_t index = 0; index < layers_.size(); ++index) {
    hidden = layers_[index].cached(hidden, rotary, mask, cache.layer(index), start);
  }
  cache.advance(ids.size(1));
  // Only the last position predicts the next token: the norm and lm_head run on it alone.
  return at::linear(norm_(hidden.select(1, hidden.size(1) - 1)), lmHead_);
}

at::Tensor causalLmLoss(const at::Tensor& logits, const at::Tensor& labels) {
  const int64_t vocab = logits.size(-1);
  // Pad one ignored label on the right and drop the first: position t is scored against token t+1.
  at::Tensor shifted = at::constant_pad_nd(labels, {0, 1}, kIgnoreIndex).narrow(1, 1, labels.size(1));
  return at::cross_entropy_loss(logits.to(at::kFloat).reshape({-1, vocab}), shifted.reshape({-1}), {},
                                at::Reduction::Mean, kIgnoreIndex);
}

}  // namespace moonlight::models
