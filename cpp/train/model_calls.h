// What the JS API asks of a CausalLM: building one from the config and options objects, its forward and
// train step as jobs, listing its tensors by kind, loading a state dict, copying the routing biases,
// counting its parameters.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/common/causal_lm.h"
#include "optim/optimizer.h"
#include "train/step_runner.h"

namespace moonlight::train {

using NamedTensorList = std::vector<std::pair<std::string, at::Tensor>>;


// The jobs the bindings run off the JS thread. Each holds the model's mutex, so jobs on one model run one at
// a time. forward records the autograd graph only in training mode (so loss.backward() works): eval() is
// inference. trainStep is runTrainStep (train/step_runner.h).
models::ForwardOutputs forward(const models::CausalLM& model, const models::ForwardInputs& inputs);
StepOutcome trainStep(const models::CausalLM& model, const std::vector<models::ForwardInputs>& microBatches,
                      const TrainStepOptions& options, optim::Optimizer* optimizer);

// kind: 'parameters' (trainable, the model's own leaves), 'state' (parameters + buffers: a checkpoint),
// 'gradients' (undefined where none) or 'stacks' (trainable tensors as stored, experts as [E, out, in]).
NamedTensorList namedTensors(const models::CausalLM& model, const nlohmann::ordered_json& kind);

// ParameterList::load, skipping lm_head.weight when the embeddings are tied (a checkpoint may still list it).
void loadStateDict(const models::CausalLM& model, NamedTensorList tensors, bool strict);

// A copy of each router's e_score_correction_bias, by decoder layer index.
std::vector<std::pair<int64_t, at::Tensor>> routerBiases(const models::CausalLM& model);

// {total, totalExcludingEmbeddings, activated, activatedExcludingEmbeddings, trainingFlopsPerToken (with
// a seqLen; null: without)} of the model `config` describes (train/model_size.h).
nlohmann::ordered_json parameterCounts(const nlohmann::ordered_json& config, const nlohmann::ordered_json& seqLen);

}  // namespace moonlight::train
