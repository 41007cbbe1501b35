// A LoRA config as src/models/lora.ts hands it over (NativeLoraConfig, checked there first): {rank, alpha,
// dropout, useRslora, targetModules: string[] | 'all-linear', seed}, every key required.
#pragma once

#include <nlohmann/json.hpp>

#include "models/common/lora.h"
#include "models/common/parameters.h"

namespace moonlight::train {

// models::attachLora with that config; ArgumentError naming lora.<key> for a missing key or a value of the
// wrong kind.
std::vector<std::string> attachLora(const models::ParameterList& parameters, const nlohmann::ordered_json& config);

}  // namespace moonlight::train
