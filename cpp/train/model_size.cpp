#include "train/model_size.h"

#include <string>

#include "core/errors.h"
#include "models/common/causal_lm.h"

namespace moonlight::train {

namespace {

bool isEmbedding(const std::string& name) { return name == "model.embed_tokens.weight" || name == "lm_head.weight"; }

// "model.layers.L.mlp.experts.E.…": E, or -1 for any other tensor (shared experts are "shared_experts").
int64_t routedExpertIndex(const std::string& name) {
  const std::string marker = ".mlp.experts.";
  const size_t at = name.find(marker);
  if (at == std::string::npos) return -1;
  return std::stoll(name.substr(at + marker.size()));
}

}  // namespace

ParameterCounts countParameters(const models::ModelConfig& config) {
  const models::CausalLM model(config, at::TensorOptions().device(at::kMeta).dtype(at::kFloat), /*seed=*/0,
                               models::WeightInit::Uninitialised);
  const int64_t activeExperts = config.moe ? config.moe->numExpertsPerTok : 0;
  ParameterCounts counts;
  for (const auto& [name, tensor] : model.parameters().checkpointTensors(/*gradients=*/false, /*trainableOnly=*/true)) {
    const int64_t numel = tensor.numel();
    const bool embedding = isEmbedding(name);
    const bool active = routedExpertIndex(name) < activeExperts;  // non-experts: -1 < k always
    counts.total += numel;
    if (!embedding) counts.totalExcludingEmbeddings += numel;
    if (active) counts.activated += numel;
    if (active && !embedding) counts.activatedExcludingEmbeddings += numel;
  }
  return counts;
}

double trainingFlopsPerToken(const models::ModelConfig& config, int64_t seqLen) {
  if (seqLen <= 0) fail(ErrorKind::Argument, "seqLen must be a positive integer, got " + std::to_string(seqLen));
  const double matmulParameters = static_cast<double>(countParameters(config).activatedExcludingEmbeddings) +
                                  static_cast<double>(config.vocabSize * config.hiddenSize);
  const int64_t qkDim = config.mla ? config.mla->qkNopeHeadDim + config.mla->qkRopeHeadDim : config.headDim;
  const int64_t vDim = config.mla ? config.mla->vHeadDim : config.headDim;
  const double attention = 6.0 * static_cast<double>(config.numAttentionHeads * seqLen * (qkDim + vDim) * config.numHiddenLayers);
  return 6.0 * matmulParameters + attention;
}

}  // namespace moonlight::train
