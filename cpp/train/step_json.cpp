#include "train/step_json.h"

#include <algorithm>
#include <limits>

#include "core/json_options.h"

namespace moonlight::train {

namespace {

using Json = nlohmann::ordered_json;

Json matrixTypesToJson(const std::vector<MatrixTypeStats>& matrixTypes) {
  Json list = Json::array();
  for (const MatrixTypeStats& stats : matrixTypes) {
    Json entry = {{"type", stats.type}, {"optimizer", stats.optimizer}, {"matrices", stats.matrices}, {"weightRms", stats.weightRms}};
    if (stats.updateMatrices > 0) {
      entry["updateRms"] = stats.updateRms;
      entry["updateRmsMin"] = stats.updateRmsMin;
      entry["updateRmsMax"] = stats.updateRmsMax;
    }
    list.push_back(std::move(entry));
  }
  return list;
}

Json diagnosticsToJson(const StepDiagnostics& diagnostics) {
  Json attention = Json::array();
  for (size_t i = 0; i < diagnostics.attentionLayers.size(); ++i) {
    const std::vector<double>& heads = diagnostics.maxAttentionLogits[i];
    double highest = -std::numeric_limits<double>::infinity();
    for (double value : heads) highest = std::max(highest, value);
    attention.push_back({{"layer", diagnostics.attentionLayers[i]}, {"maxLogit", highest}, {"perHead", heads}});
  }
  Json moe = Json::array();
  for (const MoeLayerBalance& balance : diagnostics.moeLayers) {
    moe.push_back({{"layer", balance.layer},
                   {"loadMaxOverMean", balance.loadMaxOverMean},
                   {"biasMin", balance.biasMin},
                   {"biasMax", balance.biasMax}});
  }
  return {{"matrixTypes", matrixTypesToJson(diagnostics.matrixTypes)}, {"attention", attention}, {"moe", moe}};
}

// Per layer the heads' max logits, null for a layer without MLA.
Json maxAttentionLogitsToJson(const std::vector<at::Tensor>& layers) {
  Json list = Json::array();
  for (const at::Tensor& logits : layers) {
    if (!logits.defined()) {
      list.push_back(nullptr);
      continue;
    }
    const at::Tensor host = logits.to(at::kCPU, at::kDouble).contiguous();
    list.push_back(std::vector<double>(host.data_ptr<double>(), host.data_ptr<double>() + host.numel()));
  }
  return list;
}

}  // namespace

TrainStepOptions trainStepOptionsFromJson(const Json& options) {
  TrainStepOptions read;
  json_options::readOptions(options, "options", read, json_options::kCallArguments);
  return read;
}

Json stepOutcomeToJson(const StepOutcome& outcome) {
  const TrainStepResult& result = outcome.metrics;
  Json metrics = {{"loss", result.loss},
                  {"lmLoss", result.lmLoss},
                  {"auxLoss", result.auxLoss},
                  {"gradNorm", result.gradNorm},
                  {"clipCoefficient", result.clipCoefficient},
                  {"tokens", result.tokens},
                  {"moeLayers", result.moeLayerIndices},
                  {"expertLoad", result.expertLoad},
                  {"optimizerSkipped", outcome.optimizer.skipped},
                  {"nonFiniteParameters", outcome.optimizer.nonFiniteParameters}};
  if (!result.maxAttentionLogits.empty()) {
    metrics["maxAttentionLogits"] = maxAttentionLogitsToJson(result.maxAttentionLogits);
    metrics["qkClippedHeads"] = result.qkClippedHeads;
  }
  if (outcome.diagnostics) metrics["diagnostics"] = diagnosticsToJson(*outcome.diagnostics);
  return metrics;
}

}  // namespace moonlight::train
