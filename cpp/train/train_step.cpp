#include "train/train_step.h"

#include "core/errors.h"

namespace moonlight::train {

namespace {

void checkOptions(const models::CausalLM& model, const std::vector<models::ForwardInputs>& microBatches,
                  const TrainStepOptions& options) {
  if (microBatches.empty()) fail(ErrorKind::Argument, "a train step needs at least one micro-batch");
  for (const models::ForwardInputs& inputs : microBatches) {
    if (!inputs.labels.defined()) fail(ErrorKind::Argument, "a train step needs labels");
  }
  if (options.precision == Precision::Bf16Mixed && model.dtype() != at::kFloat) {
    fail(ErrorKind::Argument, "precision 'bf16-mixed' keeps fp32 master weights: build the model with dtype 'float32'");
  }
  if (options.maxGradNorm && !(*options.maxGradNorm > 0)) fail(ErrorKind::Argument, "maxGradNorm must be positive");
  if (options.routerBiasUpdateRate < 0) fail(ErrorKind::Argument, "routerBiasUpdateRate must be >= 0");
}

}  // namespace

int64_t labelledTokens(const models::ForwardInputs& inputs) {
  const at::Tensor& labels = inputs.labels;
  if (labels.dim() != 2) {
    fail(ErrorKind::Shape, "labels has shape " + c10::str(labels.sizes()) + ": expected [batch, sequence] like inputIds");
  }
  if (labels.size(1) < 1) return 0;
  return labels.narrow(1, 1, labels.size(1) - 1).ne(-100).sum().item<int64_t>();
}

AccumulatedGradients accumulateGradients(const models::CausalLM& model,
                                         const std::vector<models::ForwardInputs>& microBatches,
                                         const TrainStepOptions& options, dist::ProcessGroup* dataParallel) {
  checkOptions(model, microBatches, options);
  const double auxLossAlpha =
      options.auxLossAlpha.value_or(model.config().moe ? model.config().moe->auxLossAlpha : 0.0);
  if (auxLossAlpha < 0) fail(ErrorKind::Argument, "auxLossAlpha must be >= 0");

  AccumulatedGradients accumulated;
  std::vector<int64_t> tokens;
  for (const models::ForwardInputs& inputs : microBatches) {
    tokens.push_back(labelledTokens(inputs));
    accumulated.globalTokens += tokens.back();
  }
  int64_t worldSize = 1;
  if (dataParallel != nullptr) {
    worldSize = dataParallel->worldSize();
    at::Tensor count = at::tensor({static_cast<double>(accumulated.globalTokens)}, at::kDouble).to(model.device());
    dataParallel->allReduce(count, dist::ReduceOp::Sum);
    accumulated.globalTokens = static_cast<int64_t>(count.item<double>());
  }
  if (accumulated.globalTokens == 0) {
    fail(ErrorKind::Argument, "the step's micro-batches have no labelled token (every label after the first is -100)");
  }

  const auto params = model.parameters().storedTensors(/*trainableOnly=*/true);
  for (const auto& [name, tensor] : params) tensor.mutable_grad().reset();

  at::AutoGradMode gradMode(true);
  const double auxWeight = 1.0 / static_cast<double>(microBatches.size());
  for (size_t index = 0; index < microBatches.size(); ++index) {
    models::ForwardInputs stepInputs = microBatches[index];
    stepInputs.collectMoeStats = true;
    stepInputs.recordAttentionLogits = options.recordAttentionLogits || options.diagnostics || options.qkClip.has_value();
    stepInputs.auxLossAlpha = auxLossAlpha;
    models::ForwardOutputs outputs;
    {
      AutocastScope autocast(options.precision, model.device().type());
      outputs = model.forward(stepInputs);
    }
    // n_i·W/N, one division of exact integers: exactly 1/M (rounded once) when all counts are equal.
    const double lmWeight = static_cast<double>(tokens[index] * worldSize) / static_cast<double>(accumulated.globalTokens);
    at::Tensor total;
    if (tokens[index] > 0) {  // a micro-batch without labelled tokens has a NaN mean and contributes no LM loss
      total = lmWeight == 1.0 ? outputs.loss : outputs.loss * lmWeight;
      accumulated.lmLossSum += outputs.loss.item<double>() * static_cast<double>(tokens[index]);
    }
    if (outputs.auxLoss.defined()) {
      at::Tensor aux = auxWeight == 1.0 ? outputs.auxLoss : outputs.auxLoss * auxWeight;
      total = total.defined() ? total + aux : aux;
      accumulated.auxLossMean += outputs.auxLoss.item<double>() * auxWeight;
    }
    if (total.defined()) total.backward();

    accumulated.moeLayerIndices = outputs.moeLayerIndices;
    accumulated.maxAttentionLogits.resize(outputs.maxAttentionLogits.size());
    for (size_t i = 0; i < outputs.maxAttentionLogits.size(); ++i) {
      const at::Tensor& logits = outputs.maxAttentionLogits[i];
      at::Tensor& best = accumulated.maxAttentionLogits[i];
      if (logits.defined()) best = best.defined() ? at::maximum(best, logits) : logits;
    }
    accumulated.expertLoad.resize(outputs.moeStats.size());
    for (size_t i = 0; i < outputs.moeStats.size(); ++i) {
      const at::Tensor load = outputs.moeStats[i].load.detach();
      at::Tensor& summed = accumulated.expertLoad[i];
      summed = summed.defined() ? summed + load : load;
    }
  }
  return accumulated;
}

}  // namespace moonlight::train
