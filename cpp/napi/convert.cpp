#include "napi/convert.h"

#include <cmath>

#include "core/device.h"
#include "core/dtype.h"
#include "core/errors.h"

namespace moonlight::napi {

namespace {
[[noreturn]] void expected(const char* argumentName, const char* what) {
  fail(ErrorKind::Argument, std::string(argumentName) + " must be " + what);
}
}  // namespace

Napi::Value argumentAt(const Napi::CallbackInfo& info, size_t index) {
  return index < info.Length() ? info[index] : info.Env().Undefined();
}

int64_t toInt64(const Napi::Value& value, const char* argumentName) {
  if (value.IsBigInt()) {
    bool lossless = false;
    int64_t result = value.As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) expected(argumentName, "an integer that fits in int64");
    return result;
  }
  if (!value.IsNumber()) expected(argumentName, "an integer");
  double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || std::floor(number) != number || std::fabs(number) > 9007199254740991.0) {
    expected(argumentName, "a safe integer");
  }
  return static_cast<int64_t>(number);
}

double toDouble(const Napi::Value& value, const char* argumentName) {
  if (!value.IsNumber()) expected(argumentName, "a number");
  return value.As<Napi::Number>().DoubleValue();
}

bool toBool(const Napi::Value& value, const char* argumentName) {
  if (!value.IsBoolean()) expected(argumentName, "a boolean");
  return value.As<Napi::Boolean>().Value();
}

std::string toString(const Napi::Value& value, const char* argumentName) {
  if (!value.IsString()) expected(argumentName, "a string");
  return value.As<Napi::String>().Utf8Value();
}

std::vector<int64_t> toInt64List(const Napi::Value& value, const char* argumentName) {
  if (!value.IsArray()) expected(argumentName, "an array of integers");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<int64_t> result(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) result[i] = toInt64(array.Get(i), argumentName);
  return result;
}

std::optional<int64_t> toOptionalInt64(const Napi::Value& value, const char* argumentName) {
  if (value.IsUndefined() || value.IsNull()) return std::nullopt;
  return toInt64(value, argumentName);
}

TensorSpec toTensorSpec(const Napi::Value& value, c10::ScalarType defaultDtype) {
  TensorSpec spec;
  spec.dtype = defaultDtype;
  if (value.IsUndefined() || value.IsNull()) return spec;
  if (!value.IsObject()) expected("options", "an object");
  Napi::Object options = value.As<Napi::Object>();
  Napi::Value dtype = options.Get("dtype");
  if (!dtype.IsUndefined()) spec.dtype = scalarTypeFromName(toString(dtype, "options.dtype"));
  Napi::Value device = options.Get("device");
  if (!device.IsUndefined()) spec.device = parseDevice(toString(device, "options.device"));
  Napi::Value requiresGrad = options.Get("requiresGrad");
  if (!requiresGrad.IsUndefined()) spec.requiresGrad = toBool(requiresGrad, "options.requiresGrad");
  return spec;
}

ConversionTarget toConversionTarget(const Napi::Value& value) {
  ConversionTarget target;
  if (value.IsUndefined() || value.IsNull()) return target;
  if (!value.IsObject()) expected("options", "an object");
  Napi::Object object = value.As<Napi::Object>();
  if (!object.Get("dtype").IsUndefined()) target.dtype = scalarTypeFromName(toString(object.Get("dtype"), "options.dtype"));
  if (!object.Get("device").IsUndefined()) target.device = parseDevice(toString(object.Get("device"), "options.device"));
  return target;
}

Napi::Array fromInt64List(Napi::Env env, c10::IntArrayRef values) {
  Napi::Array array = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); ++i) array.Set(static_cast<uint32_t>(i), static_cast<double>(values[i]));
  return array;
}

}  // namespace moonlight::napi
