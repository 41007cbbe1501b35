#include "train/step_diagnostics.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "analysis/matrix_type.h"

namespace moonlight::train {

namespace {

struct Accumulator {
  std::string optimizer;
  int64_t matrices = 0;
  double weightSquares = 0;
  double weightElements = 0;
  int64_t updateMatrices = 0;
  double updateSquares = 0;
  double updateElements = 0;
  double updateMin = 0;
  double updateMax = 0;
};

int64_t matrixCount(const at::Tensor& param) {
  if (param.dim() < 2) return 1;
  return param.numel() / std::max<int64_t>(1, param.size(-1) * param.size(-2));
}

}  // namespace

std::vector<MatrixTypeStats> matrixTypeStats(const optim::Optimizer& optimizer) {
  at::NoGradGuard noGrad;
  std::map<std::string, Accumulator> byType;
  std::vector<std::string> order;
  for (const optim::ParameterState& state : optimizer.parameters()) {
    const std::string type = analysis::matrixType(state.name);
    if (!byType.count(type)) order.push_back(type);
    Accumulator& acc = byType[type];
    const std::string kind = optimizer.groups()[state.group].kind == optim::OptimizerKind::Muon ? "muon" : "adamw";
    acc.optimizer = acc.optimizer.empty() || acc.optimizer == kind ? kind : "mixed";
    const at::Tensor& param = state.param;
    acc.matrices += matrixCount(param);
    acc.weightSquares += param.to(at::kDouble).square().sum().item<double>();
    acc.weightElements += static_cast<double>(param.numel());
    if (!state.updateRms.defined() || state.updateRms.numel() == 0) continue;
    // Per-matrix RMS → the type's RMS over all elements: Σ rms_i²·n_i / Σ n_i (matrices of a parameter share n_i).
    const at::Tensor rms = state.updateRms.to(at::kDouble);
    const double elementsPerMatrix = static_cast<double>(param.numel()) / static_cast<double>(rms.numel());
    const double low = rms.min().item<double>();
    const double high = rms.max().item<double>();
    acc.updateMin = acc.updateMatrices == 0 ? low : std::min(acc.updateMin, low);
    acc.updateMax = acc.updateMatrices == 0 ? high : std::max(acc.updateMax, high);
    acc.updateMatrices += rms.numel();
    acc.updateSquares += rms.square().sum().item<double>() * elementsPerMatrix;
    acc.updateElements += static_cast<double>(param.numel());
  }
  std::vector<MatrixTypeStats> stats;
  for (const std::string& type : order) {
    const Accumulator& acc = byType[type];
    MatrixTypeStats entry;
    entry.type = type;
    entry.optimizer = acc.optimizer;
    entry.matrices = acc.matrices;
    entry.weightRms = acc.weightElements > 0 ? std::sqrt(acc.weightSquares / acc.weightElements) : 0.0;
    entry.updateMatrices = acc.updateMatrices;
    if (acc.updateElements > 0) {
      entry.updateRms = std::sqrt(acc.updateSquares / acc.updateElements);
      entry.updateRmsMin = acc.updateMin;
      entry.updateRmsMax = acc.updateMax;
    }
    stats.push_back(entry);
  }
  return stats;
}

std::vector<MoeLayerBalance> moeLayerBalance(const models::CausalLM& model, const std::vector<int64_t>& moeLayers,
                                             const std::vector<std::vector<double>>& expertLoad) {
  std::vector<MoeLayerBalance> result;
  for (size_t i = 0; i < moeLayers.size() && i < expertLoad.size(); ++i) {
    MoeLayerBalance balance;
    balance.layer = moeLayers[i];
    const std::vector<double>& load = expertLoad[i];
    double total = 0, highest = 0;
    for (double value : load) {
      total += value;
      highest = std::max(highest, value);
    }
    const double mean = load.empty() ? 0.0 : total / static_cast<double>(load.size());
    balance.loadMaxOverMean = mean > 0 ? highest / mean : 1.0;
    const at::Tensor& bias = model.layers()[moeLayers[i]].moe()->router().correctionBias();
    balance.biasMin = bias.min().item<double>();
    balance.biasMax = bias.max().item<double>();
    result.push_back(balance);
  }
  return result;
}

StepDiagnostics collectDiagnostics(const models::CausalLM& model, const optim::Optimizer* optimizer,
                                   const TrainStepResult& result) {
  StepDiagnostics diagnostics;
  if (optimizer != nullptr) diagnostics.matrixTypes = matrixTypeStats(*optimizer);
  for (size_t layer = 0; layer < result.maxAttentionLogits.size(); ++layer) {
    const at::Tensor& logits = result.maxAttentionLogits[layer];
    if (!logits.defined()) continue;
    at::Tensor host = logits.to(at::kCPU, at::kDouble).contiguous();
    diagnostics.attentionLayers.push_back(static_cast<int64_t>(layer));
    diagnostics.maxAttentionLogits.emplace_back(host.data_ptr<double>(), host.data_ptr<double>() + host.numel());
  }
  diagnostics.moeLayers = moeLayerBalance(model, result.moeLayerIndices, result.expertLoad);
  return diagnostics;
}

}  // namespace moonlight::train
