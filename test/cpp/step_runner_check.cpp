// Three training steps of a tiny DeepSeek-V3 model (MLA + MoE) with Moonlight's Muon through
// train::runTrainStep, without Node, against the fixture test/cpp/step_runner_oracle.py makes with
// transformers. Driven by test/core-step-runner.test.ts:
//   step_runner_check --print-config   prints the model's config.json (the oracle builds the same model)
//   step_runner_check <fixture dir>    runs the steps, prints {"losses", "maxLossError", "maxGradNormError",
//                                      "maxWeightError", "weights", "tokens"} as one JSON line
// Exit code 0 when the steps ran (the test judges the errors), 1 with a message on stderr otherwise.
#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/safetensors_reader.h"
#include "models/common/causal_lm.h"
#include "optim/optimizer.h"
#include "optim/param_routing.h"
#include "train/step_runner.h"

namespace {

using namespace moonlight;

// Moonlight's layout in miniature: a dense first layer, then MoE layers with shared experts and sigmoid
// routing; head sizes unequal so a wrong split cannot cancel out.
const char* kConfigJson = R"({
  "model_type": "deepseek_v3", "vocab_size": 96, "hidden_size": 32, "num_hidden_layers": 3,
  "first_k_dense_replace": 1, "intermediate_size": 48, "moe_intermediate_size": 16, "n_routed_experts": 4,
  "num_experts_per_tok": 2, "n_shared_experts": 1, "num_attention_heads": 2, "num_key_value_heads": 2,
  "q_lora_rank": null, "kv_lora_rank": 16, "qk_nope_head_dim": 8, "qk_rope_head_dim": 4, "v_head_dim": 6,
  "topk_method": "noaux_tc", "scoring_func": "sigmoid", "n_group": 1, "topk_group": 1, "norm_topk_prob": true,
  "routed_scaling_factor": 2.5, "rope_theta": 10000.0, "max_position_embeddings": 64, "rms_norm_eps": 1e-5,
  "tie_word_embeddings": false, "hidden_act": "silu", "moe_layer_freq": 1, "aux_loss_alpha": 0.0,
  "seq_aux": true, "num_nextn_predict_layers": 0, "attention_bias": false, "rope_interleave": true
})";

// The config.json keys above by the ModelConfig key that reads them (src/models/config.ts maps them so for
// the addon), per section of the typed config; the rest keep ModelConfig's defaults.
struct KeySection {
  const char* section;  // "" for the top level
  std::vector<std::pair<const char*, const char*>> keys;
};
const KeySection kModelConfigKeys[] = {
    {"",
     {{"vocabSize", "vocab_size"}, {"hiddenSize", "hidden_size"}, {"intermediateSize", "intermediate_size"},
      {"numHiddenLayers", "num_hidden_layers"}, {"numAttentionHeads", "num_attention_heads"},
      {"numKeyValueHeads", "num_key_value_heads"}, {"maxPositionEmbeddings", "max_position_embeddings"},
      {"rmsNormEps", "rms_norm_eps"}}},
    {"rope", {{"theta", "rope_theta"}}},
    {"mla",
     {{"kvLoraRank", "kv_lora_rank"}, {"qkNopeHeadDim", "qk_nope_head_dim"}, {"qkRopeHeadDim", "qk_rope_head_dim"},
      {"vHeadDim", "v_head_dim"}}},
    {"moe",
     {{"nRoutedExperts", "n_routed_experts"}, {"numExpertsPerTok", "num_experts_per_tok"},
      {"nSharedExperts", "n_shared_experts"}, {"moeIntermediateSize", "moe_intermediate_size"},
      {"firstKDenseReplace", "first_k_dense_replace"}, {"routedScalingFactor", "routed_scaling_factor"}}},
};

models::ModelConfig modelConfig() {
  const nlohmann::json raw = nlohmann::json::parse(kConfigJson);
  nlohmann::ordered_json typed = {{"modelType", "deepseek_v3"},
                                  {"headDim", raw["hidden_size"].get<int64_t>() / raw["num_attention_heads"].get<int64_t>()}};
  for (const KeySection& section : kModelConfigKeys) {
    nlohmann::ordered_json& into = std::string_view(section.section).empty() ? typed : typed[section.section];
    for (const auto& [key, hfKey] : section.keys) into[key] = raw[hfKey];
  }
  return models::modelConfigFromJson(typed);
}

std::vector<std::pair<std::string, at::Tensor>> readAll(const std::string& path) {
  auto file = io::SafetensorsFile::open(path, /*readAll=*/true);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const io::SafetensorsEntry& entry : file->header().entries) tensors.emplace_back(entry.name, file->tensor(entry.name).clone());
  return tensors;
}

// Moonlight's optimizer as the fixture describes it: Muon (match-rms-adamw, fp32 Newton–Schulz) for the
// matrices, torch-style AdamW for embeddings, lm_head and 1-D parameters.
std::unique_ptr<optim::Optimizer> makeOptimizer(const models::CausalLM& model, const nlohmann::json& fixture) {
  std::vector<optim::NamedParameter> params;
  for (const auto& [name, tensor] : model.parameters().storedTensors(/*trainableOnly=*/true)) params.push_back({name, tensor});
  optim::ParamGroupConfig muon;
  muon.kind = optim::OptimizerKind::Muon;
  muon.lr = fixture["lr"];
  muon.weightDecay = fixture["weight_decay"];
  muon.muon.momentum = fixture["momentum"];
  muon.muon.nesterov = true;
  muon.muon.newtonSchulz = optim::kellerJordanNewtonSchulz();
  muon.muon.newtonSchulz.coefficients = {{fixture["ns_coefficients"][0], fixture["ns_coefficients"][1], fixture["ns_coefficients"][2]}};
  muon.muon.newtonSchulz.steps = fixture["ns_steps"];
  muon.muon.newtonSchulz.eps = fixture["ns_eps"];
  muon.muon.newtonSchulz.dtype = at::kFloat;
  muon.muon.updateScale = optim::UpdateScale::MatchRmsAdamW;
  optim::ParamGroupConfig adamw = muon;
  adamw.kind = optim::OptimizerKind::AdamW;
  adamw.adamw.beta1 = fixture["adam_betas"][0];
  adamw.adamw.beta2 = fixture["adam_betas"][1];
  adamw.adamw.eps = fixture["adam_eps"];
  adamw.adamw.epsPlacement = optim::AdamEpsPlacement::Torch;
  optim::RoutedGroups routed = optim::routeParameters(params, {}, muon, adamw, optim::RoutingRules{});
  return std::make_unique<optim::Optimizer>(std::move(params), std::move(routed));
}

int run(const std::string& dir) {
  std::ifstream fixtureFile(dir + "/fixture.json");
  if (!fixtureFile) throw std::runtime_error("no fixture.json in " + dir);
  const nlohmann::json fixture = nlohmann::json::parse(fixtureFile);

  models::CausalLM model(modelConfig(), at::TensorOptions().dtype(at::kFloat), /*seed=*/0);
  model.parameters().load(readAll(dir + "/model/model.safetensors"), /*strict=*/true);
  model.setTraining(true);
  std::vector<models::ForwardInputs> microBatches(fixture["micro_batches"].get<size_t>());
  auto batches = io::SafetensorsFile::open(dir + "/batches.safetensors");
  for (size_t i = 0; i < microBatches.size(); ++i) {
    microBatches[i].inputIds = batches->tensor("input_ids_" + std::to_string(i)).clone();
    microBatches[i].labels = batches->tensor("labels_" + std::to_string(i)).clone();
  }
  std::unique_ptr<optim::Optimizer> optimizer = makeOptimizer(model, fixture);
  train::TrainStepOptions options;
  options.maxGradNorm = fixture["max_grad_norm"].get<double>();
  options.auxLossAlpha = 0.0;          // transformers' DeepseekV3 has no balance loss
  options.routerBiasUpdateRate = 0.0;  // nor the aux-loss-free bias update: the routing biases stay

  nlohmann::json report;
  double maxLossError = 0, maxGradNormError = 0;
  for (int step = 0; step < fixture["steps"].get<int>(); ++step) {
    const train::StepOutcome outcome = train::runTrainStep(model, microBatches, options, optimizer.get());
    if (outcome.optimizer.skipped) throw std::runtime_error("the optimizer skipped a step");
    report["losses"].push_back(outcome.metrics.lmLoss);
    report["tokens"] = outcome.metrics.tokens;
    maxLossError = std::max(maxLossError, std::abs(outcome.metrics.lmLoss - fixture["losses"][step].get<double>()));
    maxGradNormError = std::max(maxGradNormError,
                                std::abs(outcome.metrics.gradNorm - fixture["grad_norms"][step].get<double>()));
  }
  double maxWeightError = 0;
  int64_t compared = 0;
  auto expected = io::SafetensorsFile::open(dir + "/expected.safetensors");
  for (const auto& [name, tensor] : model.parameters().checkpointTensors(/*gradients=*/false, /*trainableOnly=*/true)) {
    if (!expected->contains(name)) throw std::runtime_error("the fixture has no weight " + name);
    maxWeightError = std::max(maxWeightError, (tensor - expected->tensor(name)).abs().max().item<double>());
    ++compared;
  }
  report["maxLossError"] = maxLossError;
  report["maxGradNormError"] = maxGradNormError;
  report["maxWeightError"] = maxWeightError;
  report["weights"] = compared;
  std::cout << report.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 2 && std::string(argv[1]) == "--print-config") {
      std::cout << nlohmann::json::parse(kConfigJson).dump() << std::endl;
      return 0;
    }
    if (argc != 2) throw std::runtime_error("usage: step_runner_check --print-config | <fixture dir>");
    return run(argv[1]);
  } catch (const std::exception& error) {
    std::cerr << "step_runner_check: " << error.what() << std::endl;
    return 1;
  }
}
