#include "napi/model_config_convert.h"

#include <cmath>

#include "core/errors.h"

namespace moonlight::napi {

namespace {

// Reads one field of a config object; a wrong type is a ConfigError naming the HF key.
class FieldReader {
 public:
  FieldReader(Napi::Object object, std::string context) : object_(object), context_(std::move(context)) {}

  Napi::Value raw(const char* field) const { return object_.Get(field); }
  bool has(const char* field) const {
    Napi::Value value = object_.Get(field);
    return !value.IsUndefined() && !value.IsNull();
  }
  double number(const char* field, const char* key) const {
    Napi::Value value = object_.Get(field);
    if (!value.IsNumber() || !std::isfinite(value.As<Napi::Number>().DoubleValue())) wrong(key, "a finite number");
    return value.As<Napi::Number>().DoubleValue();
  }
  int64_t integer(const char* field, const char* key) const {
    double value = number(field, key);
    if (std::floor(value) != value) wrong(key, "an integer");
    return static_cast<int64_t>(value);
  }
  bool boolean(const char* field, const char* key) const {
    Napi::Value value = object_.Get(field);
    if (!value.IsBoolean()) wrong(key, "a boolean");
    return value.As<Napi::Boolean>().Value();
  }
  std::string string(const char* field, const char* key) const {
    Napi::Value value = object_.Get(field);
    if (!value.IsString()) wrong(key, "a string");
    return value.As<Napi::String>().Utf8Value();
  }
  Napi::Object object(const char* field, const char* key) const {
    Napi::Value value = object_.Get(field);
    if (!value.IsObject()) wrong(key, "an object");
    return value.As<Napi::Object>();
  }

 private:
  [[noreturn]] void wrong(const char* key, const char* what) const {
    fail(ErrorKind::Config, context_ + key + " must be " + what);
  }
  Napi::Object object_;
  std::string context_;
};

models::RopeConfig toRope(const FieldReader& in) {
  models::RopeConfig rope;
  rope.type = in.string("type", "rope_type");
  rope.theta = in.number("theta", "rope_theta");
  rope.factor = in.number("factor", "factor");
  rope.originalMaxPositionEmbeddings = in.integer("originalMaxPositionEmbeddings", "original_max_position_embeddings");
  if (in.has("attentionFactor")) rope.attentionFactor = in.number("attentionFactor", "attention_factor");
  rope.betaFast = in.number("betaFast", "beta_fast");
  rope.betaSlow = in.number("betaSlow", "beta_slow");
  rope.mscale = in.number("mscale", "mscale");
  rope.mscaleAllDim = in.number("mscaleAllDim", "mscale_all_dim");
  rope.truncate = in.boolean("truncate", "truncate");
  rope.lowFreqFactor = in.number("lowFreqFactor", "low_freq_factor");
  rope.highFreqFactor = in.number("highFreqFactor", "high_freq_factor");
  return rope;
}

models::MlaConfig toMla(const FieldReader& in) {
  models::MlaConfig mla;
  if (in.has("qLoraRank")) mla.qLoraRank = in.integer("qLoraRank", "q_lora_rank");
  mla.kvLoraRank = in.integer("kvLoraRank", "kv_lora_rank");
  mla.qkNopeHeadDim = in.integer("qkNopeHeadDim", "qk_nope_head_dim");
  mla.qkRopeHeadDim = in.integer("qkRopeHeadDim", "qk_rope_head_dim");
  mla.vHeadDim = in.integer("vHeadDim", "v_head_dim");
  mla.ropeInterleave = in.boolean("ropeInterleave", "rope_interleave");
  return mla;
}

models::MoeConfig toMoe(const FieldReader& in) {
  models::MoeConfig moe;
  moe.nRoutedExperts = in.integer("nRoutedExperts", "n_routed_experts");
  moe.numExpertsPerTok = in.integer("numExpertsPerTok", "num_experts_per_tok");
  moe.nSharedExperts = in.integer("nSharedExperts", "n_shared_experts");
  moe.moeIntermediateSize = in.integer("moeIntermediateSize", "moe_intermediate_size");
  moe.firstKDenseReplace = in.integer("firstKDenseReplace", "first_k_dense_replace");
  moe.moeLayerFreq = in.integer("moeLayerFreq", "moe_layer_freq");
  moe.nGroup = in.integer("nGroup", "n_group");
  moe.topkGroup = in.integer("topkGroup", "topk_group");
  moe.normTopkProb = in.boolean("normTopkProb", "norm_topk_prob");
  moe.routedScalingFactor = in.number("routedScalingFactor", "routed_scaling_factor");
  moe.auxLossAlpha = in.number("auxLossAlpha", "aux_loss_alpha");
  moe.seqAux = in.boolean("seqAux", "seq_aux");
  return moe;
}

}  // namespace

models::ModelConfig toModelConfig(const Napi::Value& value) {
  if (!value.IsObject()) fail(ErrorKind::Config, "config must be an object");
  FieldReader in(value.As<Napi::Object>(), "");
  models::ModelConfig config;
  const std::string type = in.string("modelType", "model_type");
  if (type == "deepseek_v3") {
    config.modelType = models::ModelType::DeepseekV3;
  } else if (type == "qwen2") {
    config.modelType = models::ModelType::Qwen2;
  } else if (type == "llama") {
    config.modelType = models::ModelType::Llama;
  } else {
    fail(ErrorKind::Config, "model_type '" + type + "' is not supported (deepseek_v3, qwen2, llama)");
  }
  config.vocabSize = in.integer("vocabSize", "vocab_size");
  config.hiddenSize = in.integer("hiddenSize", "hidden_size");
  config.intermediateSize = in.integer("intermediateSize", "intermediate_size");
  config.numHiddenLayers = in.integer("numHiddenLayers", "num_hidden_layers");
  config.numAttentionHeads = in.integer("numAttentionHeads", "num_attention_heads");
  config.numKeyValueHeads = in.integer("numKeyValueHeads", "num_key_value_heads");
  config.headDim = in.integer("headDim", "head_dim");
  config.maxPositionEmbeddings = in.integer("maxPositionEmbeddings", "max_position_embeddings");
  config.rmsNormEps = in.number("rmsNormEps", "rms_norm_eps");
  config.tieWordEmbeddings = in.boolean("tieWordEmbeddings", "tie_word_embeddings");
  config.qkvBias = in.boolean("qkvBias", "attention_bias");
  config.outputBias = in.boolean("outputBias", "attention_bias");
  config.mlpBias = in.boolean("mlpBias", "mlp_bias");
  config.initializerRange = in.number("initializerRange", "initializer_range");
  if (in.has("padTokenId")) config.padTokenId = in.integer("padTokenId", "pad_token_id");
  config.rope = toRope(FieldReader(in.object("rope", "rope_parameters"), "rope_parameters."));
  if (in.has("mla")) config.mla = toMla(FieldReader(in.object("mla", "mla"), ""));
  if (in.has("moe")) config.moe = toMoe(FieldReader(in.object("moe", "moe"), ""));
  config.validate();
  return config;
}

}  // namespace moonlight::napi
