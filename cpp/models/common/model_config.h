// The typed model configuration the C++ models run on. src/models/config.ts parses a Hugging Face
// config.json (both the transformers-4 and transformers-5 key styles) into this shape (its ModelConfig,
// whose camelCase keys the field lists below name); modelConfigFromJson reads it and validate() re-checks
// the invariants the maths relies on, so the core never trusts its caller.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/enum_names.h"
#include "core/option_checks.h"

namespace moonlight::models {

enum class ModelType { DeepseekV3, Qwen2, Llama };
constexpr EnumNames<ModelType, 3> namesOf(ModelType) {
  return {{{"deepseek_v3", ModelType::DeepseekV3}, {"qwen2", ModelType::Qwen2}, {"llama", ModelType::Llama}}};
}

// RoPE frequency schedule ("rope_type" in transformers): default, linear, llama3 or yarn.
struct RopeConfig {
  std::string type = "default";
  double theta = 10000.0;
  double factor = 1.0;
  int64_t originalMaxPositionEmbeddings = 0;
  std::optional<double> attentionFactor;  // yarn: explicit cos/sin scale; else derived from mscale
  double betaFast = 32.0;
  double betaSlow = 1.0;
  double mscale = 0.0;        // yarn (DeepSeek): 0 means "not set"
  double mscaleAllDim = 0.0;  // yarn (DeepSeek): also scales the softmax by m²
  bool truncate = true;       // yarn: floor/ceil the correction range
  double lowFreqFactor = 1.0;   // llama3
  double highFreqFactor = 4.0;  // llama3
};

// Multi-head latent attention (DeepSeek-V2/V3).
struct MlaConfig {
  std::optional<int64_t> qLoraRank;  // null: a direct q_proj
  int64_t kvLoraRank = 0;
  int64_t qkNopeHeadDim = 0;
  int64_t qkRopeHeadDim = 0;
  int64_t vHeadDim = 0;
  bool ropeInterleave = true;  // pairs (x0,x1),(x2,x3)… as transformers' default for this model
};

struct MoeConfig {
  int64_t nRoutedExperts = 0;
  int64_t numExpertsPerTok = 0;
  int64_t nSharedExperts = 0;
  int64_t moeIntermediateSize = 0;
  int64_t firstKDenseReplace = 0;
  int64_t moeLayerFreq = 1;
  int64_t nGroup = 1;
  int64_t topkGroup = 1;
  bool normTopkProb = true;
  double routedScalingFactor = 1.0;
  double auxLossAlpha = 0.0;
  bool seqAux = true;
};

struct ModelConfig {
  ModelType modelType = ModelType::Llama;
  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0;
  int64_t numHiddenLayers = 0;
  int64_t numAttentionHeads = 0;
  int64_t numKeyValueHeads = 0;
  int64_t headDim = 0;  // dense attention head size (never DeepSeek's `head_dim`, which is the rope size)
  int64_t maxPositionEmbeddings = 0;
  double rmsNormEps = 1e-6;
  bool tieWordEmbeddings = false;
  bool qkvBias = false;     // Qwen2: always; Llama: attention_bias
  bool outputBias = false;  // Llama: attention_bias
  bool mlpBias = false;     // Llama: mlp_bias
  double initializerRange = 0.02;
  std::optional<int64_t> padTokenId;
  RopeConfig rope;
  std::optional<MlaConfig> mla;  // set for deepseek_v3
  std::optional<MoeConfig> moe;  // set for deepseek_v3

  // Whether decoder layer `layer` uses the MoE block (DeepSeek's first_k_dense_replace / moe_layer_freq rule).
  bool isMoeLayer(int64_t layer) const;
  // ConfigError naming the offending key when an invariant does not hold.
  void validate() const;
};

inline const char* modelTypeName(ModelType type) { return nameOf(type); }

// The keys of src/models/config.ts's RopeConfig, MlaConfig, MoeConfig and ModelConfig (core/json_options.h).
template <typename Visit>
void forEachField(RopeConfig& c, Visit&& field) {
  field("type", c.type);
  field("theta", c.theta);
  field("factor", c.factor);
  field("originalMaxPositionEmbeddings", c.originalMaxPositionEmbeddings);
  field("attentionFactor", c.attentionFactor);
  field("betaFast", c.betaFast);
  field("betaSlow", c.betaSlow);
  field("mscale", c.mscale);
  field("mscaleAllDim", c.mscaleAllDim);
  field("truncate", c.truncate);
  field("lowFreqFactor", c.lowFreqFactor);
  field("highFreqFactor", c.highFreqFactor);
}

template <typename Visit>
void forEachField(MlaConfig& c, Visit&& field) {
  field("qLoraRank", c.qLoraRank);
  field("kvLoraRank", c.kvLoraRank);
  field("qkNopeHeadDim", c.qkNopeHeadDim);
  field("qkRopeHeadDim", c.qkRopeHeadDim);
  field("vHeadDim", c.vHeadDim);
  field("ropeInterleave", c.ropeInterleave);
}

template <typename Visit>
void forEachField(MoeConfig& c, Visit&& field) {
  field("nRoutedExperts", c.nRoutedExperts);
  field("numExpertsPerTok", c.numExpertsPerTok);
  field("nSharedExperts", c.nSharedExperts);
  field("moeIntermediateSize", c.moeIntermediateSize);
  field("firstKDenseReplace", c.firstKDenseReplace);
  field("moeLayerFreq", c.moeLayerFreq);
  field("nGroup", c.nGroup);
  field("topkGroup", c.topkGroup);
  field("normTopkProb", c.normTopkProb);
  field("routedScalingFactor", c.routedScalingFactor);
  field("auxLossAlpha", c.auxLossAlpha);
  field("seqAux", c.seqAux);
}

template <typename Visit>
void forEachField(ModelConfig& c, Visit&& field) {
  field("modelType", c.modelType, json_options::kRequired);
  field("vocabSize", c.vocabSize);
  field("hiddenSize", c.hiddenSize);
  field("intermediateSize", c.intermediateSize);
  field("numHiddenLayers", c.numHiddenLayers);
  field("numAttentionHeads", c.numAttentionHeads);
  field("numKeyValueHeads", c.numKeyValueHeads);
  field("headDim", c.headDim);
  field("maxPositionEmbeddings", c.maxPositionEmbeddings);
  field("rmsNormEps", c.rmsNormEps);
  field("tieWordEmbeddings", c.tieWordEmbeddings);
  field("qkvBias", c.qkvBias);
  field("outputBias", c.outputBias);
  field("mlpBias", c.mlpBias);
  field("initializerRange", c.initializerRange);
  field("padTokenId", c.padTokenId);
  field("rope", c.rope);
  field("mla", c.mla);
  field("moe", c.moe);
}

// The typed config (src/models/config.ts's ModelConfig as JSON), validated; ConfigError naming
// config.<key> for an unknown key or a wrong type, validate()'s errors otherwise.
ModelConfig modelConfigFromJson(const nlohmann::ordered_json& config);

}  // namespace moonlight::models
