// The typed model config from JS (made by src/models/config.ts from a Hugging Face config.json), read by the
// core (models/common/model_config.h). Kept as a name for model_handle.cpp, which calls it.
#pragma once

#include <napi.h>

#include "models/common/model_config.h"
#include "napi/json_value.h"

namespace moonlight::napi {

inline models::ModelConfig toModelConfig(const Napi::Value& value) {
  return models::modelConfigFromJson(toJson(value, "config"));
}

}  // namespace moonlight::napi
