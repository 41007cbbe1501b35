#include "models/common/decoder_layer.h"

namespace moonlight::models {

DecoderLayer::DecoderLayer(ParameterFactory& factory, int64_t index, const ModelConfig& config) {
  const std::string prefix = "model.layers." + std::to_string(index);
  // Registration order follows transformers' module order (attention, mlp, norms).
  if (config.mla) {
    mlaAttention_.emplace(factory, prefix + ".self_attn", config);
  } else {
    denseAttention_.emplace(factory, prefix + ".self_attn", config);
  }
  if (config.isMoeLayer(index)) {
    moe_.emplace(factory, prefix + ".mlp", config);
  } else {
    mlp_ = GatedMlp::make(factory, prefix + ".mlp", config.hiddenSize, config.intermediateSize, config.mlpBias);
  }
  inputLayernorm_ = RmsNorm::make(factory, prefix + ".input_layernorm", config.hiddenSize, config.rmsNormEps);
  postAttentionLayernorm_ =
      RmsNorm::make(factory, prefix + ".post_attention_layernorm", config.hiddenSize, config.rmsNormEps);
}

at::Tensor DecoderLayer::operator()(const at::Tensor& hidden, const RotaryTables& rotary, const at::Tensor& mask,
                                    double auxLossAlpha, MoeLayerStats* stats, at::Tensor* maxAttentionLogits) const {
  at::Tensor normed = inputLayernorm_(hidden);
  at::Tensor attention = mlaAttention_ ? (*mlaAttention_)(normed, rotary, mask, maxAttentionLogits)
                                       : (*denseAttention_)(normed, rotary, mask);
  at::Tensor residual = hidden + attention;
  normed = postAttentionLayernorm_(residual);
  at::Tensor ffn = moe_ ? (*moe_)(normed, auxLossAlpha, stats) : (*mlp_)(normed);
  return residual + ffn;
}

at::Tensor DecoderLayer::cached(const at::Tensor& hidden, const RotaryTables& rotary, const at::Tensor& mask,
                                LayerKvCache& cache, int64_t start) const {
  at::Tensor normed = inputLayernorm_(hidden);
  at::Tensor attention = mlaAttention_ ? mlaAttention_->cached(normed, rotary, mask, std::get<MlaLatentCache>(cache), start)
                                       : denseAttention_->cached(normed, rotary, mask, std::get<DenseKvCache>(cache), start);
  at::Tensor residual = hidden + attention;
  normed = postAttentionLayernorm_(residual);
  at::Tensor ffn = moe_ ? (*moe_)(normed, 0.0, nullptr) : (*mlp_)(normed);
  return residual + ffn;
}

}  // namespace moonlight::models
