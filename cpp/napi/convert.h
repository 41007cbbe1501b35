// JS value -> C++ argument conversions for the bindings. Each names the argument it reads, so a wrong call
// from outside the TS layer still gets an ArgumentError that says what was expected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <napi.h>

#include "tensor/tensor_spec.h"

namespace moonlight::napi {

Napi::Value argumentAt(const Napi::CallbackInfo& info, size_t index);
int64_t toInt64(const Napi::Value& value, const char* argumentName);
double toDouble(const Napi::Value& value, const char* argumentName);
bool toBool(const Napi::Value& value, const char* argumentName);
std::string toString(const Napi::Value& value, const char* argumentName);
std::vector<int64_t> toInt64List(const Napi::Value& value, const char* argumentName);
std::optional<int64_t> toOptionalInt64(const Napi::Value& value, const char* argumentName);

// {dtype?, device?, requiresGrad?}; missing fields keep TensorSpec's defaults (float32, cpu, false).
TensorSpec toTensorSpec(const Napi::Value& value, c10::ScalarType defaultDtype = c10::ScalarType::Float);

Napi::Array fromInt64List(Napi::Env env, c10::IntArrayRef values);

// {dtype?, device?} of loads: the target of a conversion, where given.
struct ConversionTarget {
  std::optional<c10::ScalarType> dtype;
  std::optional<c10::Device> device;
};
ConversionTarget toConversionTarget(const Napi::Value& value);

}  // namespace moonlight::napi
