// Generation in the JS API's terms: the options src/infer/generate.ts assembles (NativeGenerateOptions,
// checked there first) and the result object JS receives (NativeGenerateResult).
#pragma once

#include <nlohmann/json.hpp>

#include "infer/generator.h"

namespace moonlight::infer {

// ArgumentError naming options.<key> for a value of the wrong kind; null or absent keys keep the defaults.
GenerateOptions generateOptionsFromJson(const nlohmann::ordered_json& options);

// Every key of the result; stepLogits is a tensor, so it stands as null for the bindings to fill in.
nlohmann::ordered_json generateResultToJson(const GenerateResult& result);

}  // namespace moonlight::infer
