// Making a CausalLM from what a caller hands over as JSON: the model config and {seed, dtype, device}. The
// first call reads and checks everything (cheap: run it where the request arrives, so mistakes are reported
// at once); the second builds the model — freshly initialised, or uninitialised and filled from a Hugging
// Face folder — which at Moonlight's size takes seconds to minutes and belongs on a worker thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "models/common/causal_lm.h"

namespace moonlight::models {

struct ModelCreation {
  ModelConfig config;
  at::TensorOptions tensorOptions;  // a floating dtype and an existing device
  uint64_t seed = 0;                // of the random initialisation (unused when a checkpoint fills the model)
};

// ConfigError naming options.<key> for an unknown key or a bad value; DTypeError for a dtype that is not
// floating; DeviceError for a device that does not exist here.
ModelCreation modelCreationFromJson(const nlohmann::ordered_json& config, const nlohmann::ordered_json& options);

// normal(0, initializer_range) weights, zero biases, unit norms, from the seed.
std::shared_ptr<CausalLM> createModel(const ModelCreation& creation);

struct PretrainedModel {
  std::shared_ptr<CausalLM> model;
  std::vector<std::string> unexpected;  // checkpoint tensors the model does not use
};

// The model built without initialising its weights, then every weight read from the folder's safetensors
// files straight into place (models/common/pretrained_weights.h): the peak is the model plus a bounded
// staging buffer. CheckpointError naming the folder and the tensors when the checkpoint does not fit.
PretrainedModel loadPretrainedModel(const ModelCreation& creation, const std::string& directory);

}  // namespace moonlight::models
