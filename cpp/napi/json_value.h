// JS data ↔ JSON, so that options objects reach the core as they are and the core alone reads them
// (core/json_options.h), and the core's results reach JS as the data it assembled. Tensors are not JSON:
// they travel as handles, unwrapped and wrapped by the bindings.
#pragma once

#include <string>

#include <napi.h>
#include <nlohmann/json.hpp>

namespace moonlight::napi {

// Numbers become doubles (NaN and ±Infinity kept, for the core to name), BigInts JSON integers (an
// ArgumentError beyond int64), undefined object properties are left out as JSON.stringify does, undefined
// list items become null. ArgumentError naming the path below `where` for anything else (functions,
// symbols, tensors, objects nested deeper than 64).
nlohmann::ordered_json toJson(const Napi::Value& value, const std::string& where);

// The JS value of `json`: objects keep their key order, every number is a JS number.
Napi::Value fromJson(Napi::Env env, const nlohmann::ordered_json& json);

}  // namespace moonlight::napi
