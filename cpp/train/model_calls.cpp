#include "train/model_calls.h"

#include "core/enum_names.h"
#include "core/errors.h"
#include "core/json_options.h"
#include "train/model_size.h"

namespace moonlight::train {

namespace {

using Json = nlohmann::ordered_json;

enum class TensorKind { Parameters, State, Gradients, Stacks };
constexpr EnumNames<TensorKind, 4> namesOf(TensorKind) {
  return {{{"parameters", TensorKind::Parameters},
           {"state", TensorKind::State},
           {"gradients", TensorKind::Gradients},
           {"stacks", TensorKind::Stacks}}};
}

}  // namespace

models::ForwardOutputs forward(const models::CausalLM& model, const models::ForwardInputs& inputs) {
  std::lock_guard<std::mutex> lock(model.mutex());
  at::AutoGradMode gradMode(model.training());
  return model.forward(inputs);
}

StepOutcome trainStep(const models::CausalLM& model, const std::vector<models::ForwardInputs>& microBatches,
                      const TrainStepOptions& options, optim::Optimizer* optimizer) {
  std::lock_guard<std::mutex> lock(model.mutex());
  return runTrainStep(model, microBatches, options, optimizer);
}

NamedTensorList namedTensors(const models::CausalLM& model, const Json& kind) {
  const models::ParameterList& parameters = model.parameters();
  switch (json_options::readArgument<TensorKind>(kind, "kind")) {
    case TensorKind::Parameters:
      return parameters.checkpointTensors(/*gradients=*/false, /*trainableOnly=*/true, /*leaves=*/true);
    case TensorKind::State:
      return parameters.checkpointTensors(/*gradients=*/false, /*trainableOnly=*/false);
    case TensorKind::Gradients:
      return parameters.checkpointTensors(/*gradients=*/true, /*trainableOnly=*/true);
    case TensorKind::Stacks:
      return parameters.storedTensors(/*trainableOnly=*/true);
  }
  return {};
}

void loadStateDict(const models::CausalLM& model, NamedTensorList tensors, bool strict) {
  if (model.config().tieWordEmbeddings) {
    std::erase_if(tensors, [](const auto& entry) { return entry.first == "lm_head.weight"; });
  }
  model.parameters().load(tensors, strict);
}

std::vector<std::pair<int64_t, at::Tensor>> routerBiases(const models::CausalLM& model) {
  std::vector<std::pair<int64_t, at::Tensor>> biases;
  for (size_t layer = 0; layer < model.layers().size(); ++layer) {
    const models::MoeBlock* moe = model.layers()[layer].moe();
    if (moe != nullptr) biases.emplace_back(static_cast<int64_t>(layer), moe->router().correctionBias().clone());
  }
  return biases;
}

Json parameterCounts(const Json& config, const Json& seqLen) {
  const models::ModelConfig modelConfig = models::modelConfigFromJson(config);
  const ParameterCounts counts = countParameters(modelConfig);
  Json result = {{"total", counts.total},
                 {"totalExcludingEmbeddings", counts.totalExcludingEmbeddings},
                 {"activated", counts.activated},
                 {"activatedExcludingEmbeddings", counts.activatedExcludingEmbeddings}};
  if (!seqLen.is_null()) {
    result["trainingFlopsPerToken"] = trainingFlopsPerToken(modelConfig, json_options::readArgument<int64_t>(seqLen, "seqLen"));
  }
  return result;
}

}  // namespace moonlight::train
