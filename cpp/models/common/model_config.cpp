#include "models/common/model_config.h"

#include <string>

#include "core/errors.h"
#include "core/json_options.h"

namespace moonlight::models {

namespace {

void requirePositive(int64_t value, const char* key) {
  if (value <= 0) fail(ErrorKind::Config, std::string(key) + " must be a positive integer, got " + std::to_string(value));
}

// Messages name config.json's keys as transformers spells them, with the values given: what a user edits.
std::string keyValue(const char* key, int64_t value) {
  return "\"" + std::string(key) + "\" (" + std::to_string(value) + ")";
}

void requireDivides(int64_t divisor, const char* divisorKey, int64_t value, const char* valueKey) {
  if (value % divisor != 0) {
    fail(ErrorKind::Config, "config key " + keyValue(divisorKey, divisor) + " must divide " + keyValue(valueKey, value));
  }
}

// RoPE rotates pairs of dimensions.
void requireEven(int64_t value, const char* key) {
  if (value % 2 != 0) fail(ErrorKind::Config, "config key " + keyValue(key, value) + " must be even for RoPE");
}

}  // namespace

ModelConfig modelConfigFromJson(const nlohmann::ordered_json& json) {
  ModelConfig config;
  json_options::readOptions(json, "config", config);
  config.validate();
  return config;
}

bool ModelConfig::isMoeLayer(int64_t layer) const {
  return moe.has_value() && layer >= moe->firstKDenseReplace && layer % moe->moeLayerFreq == 0;
}

void ModelConfig::validate() const {
  requirePositive(vocabSize, "vocab_size");
  requirePositive(hiddenSize, "hidden_size");
  requirePositive(intermediateSize, "intermediate_size");
  requirePositive(numHiddenLayers, "num_hidden_layers");
  requirePositive(numAttentionHeads, "num_attention_heads");
  requirePositive(maxPositionEmbeddings, "max_position_embeddings");
  if (!(rmsNormEps > 0)) fail(ErrorKind::Config, "rms_norm_eps must be positive");
  if (!(rope.theta > 0)) fail(ErrorKind::Config, "rope_theta must be positive");
  if (padTokenId && (*padTokenId < 0 || *padTokenId >= vocabSize)) {
    fail(ErrorKind::Config, "config key " + keyValue("pad_token_id", *padTokenId) + " must be in [0, " +
                                keyValue("vocab_size", vocabSize) + ")");
  }
  if ((modelType == ModelType::DeepseekV3) != (mla.has_value() && moe.has_value())) {
    fail(ErrorKind::Config, "model_type deepseek_v3 needs the MLA and MoE keys, other types must not set them");
  }
  if (mla) {
    if (mla->qLoraRank) requirePositive(*mla->qLoraRank, "q_lora_rank");
    requirePositive(mla->kvLoraRank, "kv_lora_rank");
    requirePositive(mla->qkNopeHeadDim, "qk_nope_head_dim");
    requirePositive(mla->qkRopeHeadDim, "qk_rope_head_dim");
    requirePositive(mla->vHeadDim, "v_head_dim");
    requireEven(mla->qkRopeHeadDim, "qk_rope_head_dim");
  } else {
    requirePositive(numKeyValueHeads, "num_key_value_heads");
    requirePositive(headDim, "head_dim");
    requireEven(headDim, "head_dim");
    requireDivides(numKeyValueHeads, "num_key_value_heads", numAttentionHeads, "num_attention_heads");
  }
  if (moe) {
    requirePositive(moe->nRoutedExperts, "n_routed_experts");
    requirePositive(moe->numExpertsPerTok, "num_experts_per_tok");
    requirePositive(moe->moeIntermediateSize, "moe_intermediate_size");
    requirePositive(moe->moeLayerFreq, "moe_layer_freq");
    requirePositive(moe->nGroup, "n_group");
    requirePositive(moe->topkGroup, "topk_group");
    if (moe->nSharedExperts < 0) fail(ErrorKind::Config, "n_shared_experts must be >= 0");
    if (moe->firstKDenseReplace < 0) fail(ErrorKind::Config, "first_k_dense_replace must be >= 0");
    requireDivides(moe->nGroup, "n_group", moe->nRoutedExperts, "n_routed_experts");
    if (moe->topkGroup > moe->nGroup) {
      fail(ErrorKind::Config, "config key " + keyValue("topk_group", moe->topkGroup) + " must not exceed " +
                                  keyValue("n_group", moe->nGroup));
    }
    const int64_t perGroup = moe->nRoutedExperts / moe->nGroup;
    if (moe->nGroup > 1 && perGroup < 2) {
      fail(ErrorKind::Config, "config key " + keyValue("n_group", moe->nGroup) +
                                  ": each group needs at least 2 experts (a group's score sums its top 2)");
    }
    // Experts of dropped groups get choice score -inf (as in transformers): top-k takes them only once k
    // exceeds the kept experts, and then picks among -inf ties in an implementation-defined order — except
    // at k = n_routed_experts, where every expert is chosen and the result is well defined.
    const int64_t kept = moe->topkGroup * perGroup;
    if (moe->numExpertsPerTok > moe->nRoutedExperts) {
      fail(ErrorKind::Config, "config key " + keyValue("num_experts_per_tok", moe->numExpertsPerTok) + " exceeds " +
                                  keyValue("n_routed_experts", moe->nRoutedExperts));
    }
    if (moe->numExpertsPerTok > kept && moe->numExpertsPerTok < moe->nRoutedExperts) {
      fail(ErrorKind::Config, "config key " + keyValue("num_experts_per_tok", moe->numExpertsPerTok) + " exceeds the " +
                                  std::to_string(kept) + " experts of topk_group groups but is below n_routed_experts (" +
                                  std::to_string(moe->nRoutedExperts) +
                                  "): the extra experts would be picked among tied -inf scores, in no defined order");
    }
  }
  if (rope.type != "default" && rope.type != "linear" && rope.type != "llama3" && rope.type != "yarn") {
    fail(ErrorKind::Config, "rope_scaling.rope_type '" + rope.type + "' is not supported (default, linear, llama3, yarn)");
  }
}

}  // namespace moonlight::models
