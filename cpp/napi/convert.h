// Single arguments for the bindings that unwrap by hand, read as the core reads data
// (json_options::readArgument): an ArgumentError naming the argument when it is not what was expected.
// Options objects and other data go to the core whole, as JSON (napi/json_value.h).
#pragma once

#include <cstdint>
#include <string>

#include <ATen/ATen.h>
#include <napi.h>

#include "core/json_options.h"
#include "napi/json_value.h"

namespace moonlight::napi {

Napi::Value argumentAt(const Napi::CallbackInfo& info, size_t index);

template <typename T>
T argumentAs(const Napi::Value& value, const char* argumentName) {
  return json_options::readArgument<T>(toJson(value, argumentName), argumentName);
}

inline int64_t toInt64(const Napi::Value& value, const char* argumentName) { return argumentAs<int64_t>(value, argumentName); }
inline double toDouble(const Napi::Value& value, const char* argumentName) { return argumentAs<double>(value, argumentName); }
inline bool toBool(const Napi::Value& value, const char* argumentName) { return argumentAs<bool>(value, argumentName); }
inline std::string toString(const Napi::Value& value, const char* argumentName) {
  return argumentAs<std::string>(value, argumentName);
}

// A copy of the bytes of `host`, a contiguous CPU tensor.
Napi::ArrayBuffer arrayBufferOf(Napi::Env env, const at::Tensor& host);

}  // namespace moonlight::napi
