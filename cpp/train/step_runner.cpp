#include "train/step_runner.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "core/errors.h"

namespace moonlight::train {

namespace {

std::vector<double> toDoubles(const at::Tensor& tensor) {
  at::Tensor host = tensor.detach().to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(host.data_ptr<double>(), host.data_ptr<double>() + host.numel());
}

// Global L2 norm of all gradients (fp32), then — as torch.nn.utils.clip_grad_norm_ — scale every gradient by
// min(1, maxNorm / (norm + 1e-6)).
optim::GradientNorm clipLocalGradients(const models::CausalLM& model, std::optional<double> maxNorm) {
  std::vector<at::Tensor> norms;
  std::vector<at::Tensor> grads;
  for (const auto& [name, tensor] : model.parameters().storedTensors(/*trainableOnly=*/true)) {
    if (!tensor.grad().defined()) continue;
    grads.push_back(tensor.grad());
    norms.push_back(at::linalg_vector_norm(tensor.grad().to(at::kFloat), 2));
  }
  if (grads.empty()) return {};
  optim::GradientNorm result;
  result.norm = at::linalg_vector_norm(at::stack(norms), 2).item<double>();
  if (maxNorm) {
    result.coefficient = std::min(1.0, *maxNorm / (result.norm + 1e-6));
    if (result.coefficient < 1.0) {
      for (const at::Tensor& grad : grads) grad.mul_(result.coefficient);
    }
  }
  return result;
}

// Every rank's sums in one collective: [Σ loss·n, mean aux, load of every MoE layer...] summed over the ranks.
// On the model's device: a process group may be NCCL only (CUDA tensors).
void reduceOverRanks(dist::ProcessGroup& group, const at::Device& device, AccumulatedGradients& accumulated) {
  std::vector<at::Tensor> parts{at::tensor({accumulated.lmLossSum, accumulated.auxLossMean}, at::kDouble)};
  std::vector<int64_t> sizes{2};
  for (const at::Tensor& load : accumulated.expertLoad) {
    parts.push_back(load.to(at::kCPU, at::kDouble).reshape({-1}));
    sizes.push_back(load.numel());
  }
  at::Tensor flat = at::cat(parts).to(device).contiguous();
  group.allReduce(flat, dist::ReduceOp::Sum);
  std::vector<at::Tensor> reduced = flat.to(at::kCPU).split_with_sizes(sizes);
  accumulated.lmLossSum = reduced[0][0].item<double>();
  accumulated.auxLossMean = reduced[0][1].item<double>() / group.worldSize();
  for (size_t i = 0; i < accumulated.expertLoad.size(); ++i) {
    at::Tensor& load = accumulated.expertLoad[i];
    load = reduced[i + 1].to(load.device(), load.scalar_type()).view(load.sizes());
  }
}

// The optimizer's update, recording update RMS on diagnostic steps; the spent gradients are dropped after, so
// their memory is free until the next step's backward.
optim::StepReport stepOptimizer(optim::Optimizer& optimizer, bool recordUpdateRms) {
  optimizer.setRecordUpdateRms(recordUpdateRms);
  std::unique_ptr<optim::Optimizer, void (*)(optim::Optimizer*)> stopRecording(
      &optimizer, [](optim::Optimizer* o) { o->setRecordUpdateRms(false); });
  optim::StepReport report = optimizer.step();
  optimizer.zeroGrad();
  return report;
}

}  // namespace

StepOutcome runTrainStep(const models::CausalLM& model, const std::vector<models::ForwardInputs>& microBatches,
                         const TrainStepOptions& options, optim::Optimizer* optimizer) {
  const bool dataParallel = optimizer != nullptr && optimizer->distributed();
  if (options.qkClip && dataParallel) {
    // Every rank would clip from its own logits and the replicas would drift apart.
    fail(ErrorKind::Argument, "qkClip with data parallelism is not supported yet: train on one process or turn it off");
  }
  std::shared_ptr<dist::ProcessGroup> group = dataParallel ? dist::currentProcessGroup() : nullptr;
  AccumulatedGradients accumulated = accumulateGradients(model, microBatches, options, group.get());

  StepOutcome outcome;
  TrainStepResult& result = outcome.metrics;
  const optim::GradientNorm norm =
      dataParallel ? optimizer->reduceGradients(options.maxGradNorm) : clipLocalGradients(model, options.maxGradNorm);
  result.gradNorm = norm.norm;
  result.clipCoefficient = norm.coefficient;
  result.maxAttentionLogits = std::move(accumulated.maxAttentionLogits);
  if (optimizer != nullptr) outcome.optimizer = stepOptimizer(*optimizer, options.diagnostics);
  if (options.qkClip && optimizer != nullptr && !options.qkClip->remeasure) {
    result.qkClippedHeads = applyQkClip(model, result.maxAttentionLogits, *options.qkClip);
  }

  // Every rank moves its routing biases by the same global load, so the replicas stay identical.
  if (group) reduceOverRanks(*group, model.device(), accumulated);
  for (size_t i = 0; i < accumulated.moeLayerIndices.size(); ++i) {
    const int64_t layer = accumulated.moeLayerIndices[i];
    if (options.routerBiasUpdateRate > 0) {
      model.layers()[layer].moe()->router().updateCorrectionBias(accumulated.expertLoad[i], options.routerBiasUpdateRate);
    }
    result.moeLayerIndices.push_back(layer);
    result.expertLoad.push_back(toDoubles(accumulated.expertLoad[i]));
  }
  // Re-measured QK-Clip runs last, on the weights and routing biases the next step will see.
  if (options.qkClip && optimizer != nullptr && options.qkClip->remeasure) {
    result.qkClippedHeads = applyQkClipRemeasured(model, microBatches, *options.qkClip);
  }
  result.tokens = accumulated.globalTokens;
  result.lmLoss = accumulated.lmLossSum / static_cast<double>(accumulated.globalTokens);
  result.auxLoss = accumulated.auxLossMean;
  result.loss = result.lmLoss + result.auxLoss;
  if (options.diagnostics) outcome.diagnostics = collectDiagnostics(model, optimizer, result);
  return outcome;
}

}  // namespace moonlight::train
