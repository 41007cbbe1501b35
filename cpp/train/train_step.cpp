#include "train/train_step.h"

#include "core/errors.h"

namespace moonlight::train {

namespace {

std::vector<double> toDoubles(const at::Tensor& tensor) {
  at::Tensor host = tensor.detach().to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(host.data_ptr<double>(), host.data_ptr<double>() + host.numel());
}

// Global L2 norm of all gradients (fp32), then — as torch.nn.utils.clip_grad_norm_ — scale every gradient by
// min(1, maxNorm / (norm + 1e-6)).
std::pair<double, double> clipGradients(const std::vector<at::Tensor>& grads, std::optional<double> maxNorm) {
  if (grads.empty()) return {0.0, 1.0};
  std::vector<at::Tensor> norms;
  norms.reserve(grads.size());
  for (const at::Tensor& grad : grads) norms.push_back(at::linalg_vector_norm(grad.to(at::kFloat), 2));
  at::Tensor total = at::linalg_vector_norm(at::stack(norms), 2);
  const double norm = total.item<double>();
  double coefficient = 1.0;
  if (maxNorm) {
    coefficient = std::min(1.0, *maxNorm / (norm + 1e-6));
    if (coefficient < 1.0) {
      for (const at::Tensor& grad : grads) grad.mul_(coefficient);
    }
  }
  return {norm, coefficient};
}

}  // namespace

TrainStepResult runTrainStep(const models::CausalLM& model, const models::ForwardInputs& inputs,
                             const TrainStepOptions& options) {
  return runTrainStep(model, std::vector<models::ForwardInputs>{inputs}, options);
}

TrainStepResult runTrainStep(const models::CausalLM& model, const std::vector<models::ForwardInputs>& microBatches,
                             const TrainStepOptions& options) {
  if (microBatches.empty()) fail(ErrorKind::Argument, "a train step needs at least one micro-batch");
  for (const models::ForwardInputs& inputs : microBatches) {
    if (!inputs.labels.defined()) fail(ErrorKind::Argument, "a train step needs labels");
  }
  if (options.precision == Precision::Bf16Mixed && model.dtype() != at::kFloat) {
    fail(ErrorKind::Argument, "precision 'bf16-mixed' keeps fp32 master weights: build the model with dtype 'float32'");
  }
  if (options.maxGradNorm && !(*options.maxGradNorm > 0)) fail(ErrorKind::Argument, "maxGradNorm must be positive");
  if (options.qkClip && options.reduceGradients) {
    // Every rank would clip from its own logits and the replicas would drift apart.
    fail(ErrorKind::Argument, "qkClip with data parallelism is not supported yet: train on one process or turn it off");
  }
  if (options.routerBiasUpdateRate < 0) fail(ErrorKind::Argument, "routerBiasUpdateRate must be >= 0");
  const double auxLossAlpha =
      options.auxLossAlpha.value_or(model.config().moe ? model.config().moe->auxLossAlpha : 0.0);
  if (auxLossAlpha < 0) fail(ErrorKind::Argument, "auxLossAlpha must be >= 0");

  const auto params = model.parameters().storedTensors(/*trainableOnly=*/true);
  for (const auto& [name, tensor] : params) tensor.mutable_grad().reset();

  at::AutoGradMode gradMode(true);
  const double microBatchWeight = 1.0 / static_cast<double>(microBatches.size());
  TrainStepResult result;
  std::vector<at::Tensor> summedLoad;
  std::vector<int64_t> moeLayerIndices;
  for (const models::ForwardInputs& inputs : microBatches) {
    models::ForwardInputs stepInputs = inputs;
    stepInputs.collectMoeStats = true;
    stepInputs.recordAttentionLogits = options.recordAttentionLogits || options.diagnostics || options.qkClip.has_value();
    stepInputs.auxLossAlpha = auxLossAlpha;
    models::ForwardOutputs outputs;
    {
      AutocastScope autocast(options.precision, model.device().type());
      outputs = model.forward(stepInputs);
    }
    at::Tensor total = outputs.auxLoss.defined() ? outputs.loss + outputs.auxLoss : outputs.loss;
    if (microBatches.size() > 1) total = total * microBatchWeight;
    total.backward();

    result.lmLoss += outputs.loss.item<double>() * microBatchWeight;
    result.auxLoss += (outputs.auxLoss.defined() ? outputs.auxLoss.item<double>() : 0.0) * microBatchWeight;
    result.tokens += inputs.labels.narrow(1, 1, inputs.labels.size(1) - 1).ne(-100).sum().item<int64_t>();
    moeLayerIndices = outputs.moeLayerIndices;
    result.maxAttentionLogits.resize(outputs.maxAttentionLogits.size());
    for (size_t i = 0; i < outputs.maxAttentionLogits.size(); ++i) {
      const at::Tensor& logits = outputs.maxAttentionLogits[i];
      at::Tensor& best = result.maxAttentionLogits[i];
      if (logits.defined()) best = best.defined() ? at::maximum(best, logits) : logits;
    }
    summedLoad.resize(outputs.moeStats.size());
    for (size_t i = 0; i < outputs.moeStats.size(); ++i) {
      const at::Tensor load = outputs.moeStats[i].load.detach();
      summedLoad[i] = summedLoad[i].defined() ? summedLoad[i] + load : load;
    }
  }

  std::vector<at::Tensor> grads;
  for (const auto& [name, tensor] : params) {
    if (tensor.grad().defined()) grads.push_back(tensor.grad());
  }
  std::tie(result.gradNorm, result.clipCoefficient) =
      options.reduceGradients ? options.reduceGradients(options.maxGradNorm) : clipGradients(grads, options.maxGradNorm);
  if (options.optimizerStep) options.optimizerStep(model);
  if (options.qkClip && options.optimizerStep && !options.qkClip->remeasure) {
    result.qkClippedHeads = applyQkClip(model, result.maxAttentionLogits, *options.qkClip);
  }

  if (options.reduceExpertLoad && !summedLoad.empty()) options.reduceExpertLoad(summedLoad);
  for (size_t i = 0; i < moeLayerIndices.size(); ++i) {
    const int64_t layer = moeLayerIndices[i];
    if (options.routerBiasUpdateRate > 0) {
      model.layers()[layer].moe()->router().updateCorrectionBias(summedLoad[i], options.routerBiasUpdateRate);
    }
    result.moeLayerIndices.push_back(layer);
    result.expertLoad.push_back(toDoubles(summedLoad[i]));
  }
  // Re-measured QK-Clip runs last, on the weights and routing biases the next step will see.
  if (options.qkClip && options.optimizerStep && options.qkClip->remeasure) {
    result.qkClippedHeads = applyQkClipRemeasured(model, microBatches, *options.qkClip);
  }
  result.loss = result.lmLoss + result.auxLoss;
  return result;
}

}  // namespace moonlight::train
