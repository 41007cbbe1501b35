// JS data → JSON, so that options objects reach the core as they are and the core alone reads them
// (core/json_options.h). Tensors are not JSON: they travel as handles, unwrapped by the bindings.
#pragma once

#include <string>

#include <napi.h>
#include <nlohmann/json.hpp>

namespace moonlight::napi {

// Numbers become doubles (NaN and ±Infinity kept, for the core to name), undefined object properties are
// left out as JSON.stringify does, undefined list items become null. ArgumentError naming the path below
// `where` for anything else (functions, symbols, tensors, BigInts, objects nested deeper than 64).
nlohmann::ordered_json toJson(const Napi::Value& value, const std::string& where);

}  // namespace moonlight::napi
