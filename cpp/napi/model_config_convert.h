// The typed model config from JS (made by src/models/config.ts from a Hugging Face config.json) to the
// C++ struct. Field names are the camelCase forms of the HF keys; errors name the HF key.
#pragma once

#include <napi.h>

#include "models/common/model_config.h"

namespace moonlight::napi {

models::ModelConfig toModelConfig(const Napi::Value& value);

}  // namespace moonlight::napi
