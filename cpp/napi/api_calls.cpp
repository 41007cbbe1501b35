#include "napi/api_calls.h"

#include <variant>

#include "core/api_tables.h"
#include "core/errors.h"
#include "data/token_cache.h"
#include "io/safetensors_reader.h"
#include "optim/optimizer.h"
#include "napi/bindings.h"
#include "napi/convert.h"
#include "napi/core_handle.h"
#include "napi/error_bridge.h"
#include "napi/json_value.h"
#include "napi/promise_worker.h"
#include "napi/tensor_handle.h"

namespace moonlight::napi {

namespace {

using api::ArgumentKind;

// Integers: every element of a TypedArray of `Element`.
template <typename Element>
api::Json integersOf(const Napi::TypedArray& array) {
  const auto* values = reinterpret_cast<const Element*>(static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset());
  return api::Json(std::vector<Element>(values, values + array.ElementLength()));
}

api::Json integers(const Napi::Value& value, const std::string& name) {
  if (!value.IsTypedArray()) {
    if (!value.IsArray()) fail(ErrorKind::Argument, name + " must be an array of integers");
    return toJson(value, name);
  }
  Napi::TypedArray array = value.As<Napi::TypedArray>();
  switch (array.TypedArrayType()) {
    case napi_int32_array: return integersOf<int32_t>(array);
    case napi_uint32_array: return integersOf<uint32_t>(array);
    case napi_float64_array: return integersOf<double>(array);
    case napi_bigint64_array: return integersOf<int64_t>(array);
    default: fail(ErrorKind::Argument, name + " must be an array, Int32Array, Uint32Array, Float64Array or BigInt64Array");
  }
}

// [{name, tensor}, ...]
api::NamedTensors tensorEntries(const Napi::Value& value, const std::string& name) {
  if (!value.IsArray()) fail(ErrorKind::Argument, name + " must be an array");
  Napi::Array list = value.As<Napi::Array>();
  api::NamedTensors tensors;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    const std::string where = name + "[" + std::to_string(i) + "]";
    if (!list.Get(i).IsObject()) fail(ErrorKind::Argument, where + " must be an object");
    Napi::Object entry = list.Get(i).As<Napi::Object>();
    tensors.emplace_back(toString(entry.Get("name"), (where + ".name").c_str()),
                         TensorHandle::unwrap(entry.Get("tensor"), (where + ".tensor").c_str()));
  }
  return tensors;
}

// {name: Tensor, ...}, in key order.
api::NamedTensors tensorsByName(const Napi::Value& value, const std::string& name) {
  if (!value.IsObject()) fail(ErrorKind::Argument, name + " must be an object");
  Napi::Object object = value.As<Napi::Object>();
  Napi::Array keys = object.GetPropertyNames();
  api::NamedTensors tensors;
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    const std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
    tensors.emplace_back(key, TensorHandle::unwrap(object.Get(key), (name + "['" + key + "']").c_str()));
  }
  return tensors;
}

api::Argument readArgument(const Napi::Value& value, const api::Parameter& parameter) {
  api::Argument argument;
  const std::string name = parameter.name;
  argument.given = !value.IsUndefined() && !value.IsNull();
  switch (parameter.kind) {
    case ArgumentKind::Tensor:
      argument.tensor = TensorHandle::unwrap(value, parameter.name);
      break;
    case ArgumentKind::OptionalTensor:
      if (argument.given) argument.tensor = TensorHandle::unwrap(value, parameter.name);
      break;
    case ArgumentKind::TensorOrNumber:
      if (value.IsNumber()) argument.data = value.As<Napi::Number>().DoubleValue();
      else argument.tensor = TensorHandle::unwrap(value, parameter.name);
      break;
    case ArgumentKind::TensorList: {
      if (!value.IsArray()) fail(ErrorKind::Argument, name + " must be an array of Tensors");
      Napi::Array array = value.As<Napi::Array>();
      for (uint32_t i = 0; i < array.Length(); ++i) argument.tensors.push_back(TensorHandle::unwrap(array.Get(i), parameter.name));
      break;
    }
    case ArgumentKind::NamedTensors:
      argument.namedTensors = TensorHandle::unwrapNamed(value, name);
      break;
    case ArgumentKind::TensorEntries:
      argument.namedTensors = tensorEntries(value, name);
      break;
    case ArgumentKind::TensorsByName:
      if (argument.given) argument.namedTensors = tensorsByName(value, name);
      break;
    case ArgumentKind::Integers:
      argument.data = integers(value, name);
      break;
    case ArgumentKind::HostBytes: {
      if (!value.IsTypedArray()) fail(ErrorKind::Argument, name + " must be a TypedArray");
      Napi::TypedArray view = value.As<Napi::TypedArray>();
      argument.bytes = {static_cast<const uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset(), view.ByteLength()};
      break;
    }
    case ArgumentKind::Data:
      argument.data = toJson(value, name);
      break;
  }
  return argument;
}

}  // namespace

api::Arguments readArguments(const Napi::CallbackInfo& info, const std::vector<api::Parameter>& parameters,
                             std::vector<api::Argument> leading) {
  const size_t first = leading.size();
  for (size_t i = first; i < parameters.size(); ++i) leading.push_back(readArgument(argumentAt(info, i - first), parameters[i]));
  return api::Arguments(parameters, std::move(leading));
}

Napi::Value resultToJs(Napi::Env env, api::Result& result) {
  if (auto* tensor = std::get_if<at::Tensor>(&result)) return tensor->defined() ? TensorHandle::wrap(env, *tensor) : env.Null();
  if (auto* tensors = std::get_if<std::vector<at::Tensor>>(&result)) {
    Napi::Array array = Napi::Array::New(env, tensors->size());
    for (uint32_t i = 0; i < tensors->size(); ++i) array.Set(i, TensorHandle::wrap(env, (*tensors)[i]));
    return array;
  }
  if (auto* named = std::get_if<api::NamedTensors>(&result)) return TensorHandle::wrapNamed(env, *named);
  if (auto* byName = std::get_if<api::TensorsByName>(&result)) {
    Napi::Object object = Napi::Object::New(env);
    for (const auto& [name, tensor] : byName->tensors) object.Set(name, TensorHandle::wrap(env, tensor));
    return object;
  }
  if (auto* data = std::get_if<api::Json>(&result)) return fromJson(env, *data);
  return env.Undefined();
}

Napi::Value respond(Napi::Env env, api::Result result) { return resultToJs(env, result); }

Napi::Value respondLater(Napi::Env env, const char* name, api::Job job) {
  return startPromise<api::Result>(env, name, std::move(job), resultToJs);
}

Napi::Value callApiFunction(const Napi::CallbackInfo& info, const api::Function& function, const at::Tensor* self) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::vector<api::Argument> leading;
    if (self != nullptr) leading.push_back({.tensor = *self});
    const api::Arguments arguments = readArguments(info, function.parameters, std::move(leading));
    if (function.run) return respond(info.Env(), function.run(arguments));
    return respondLater(info.Env(), function.name, function.start(arguments));
  });
}

void registerApi(Napi::Env env, Napi::Object exports) {
  for (const api::FunctionTable* table : {&tensor::tensorOps(), &tensor::tensorFactories(), &io::checkpointFunctions(),
                                          &dist::distFunctions(), &analysis::analysisFunctions()}) {
    for (const api::Function& function : *table) {
      auto call = [](const Napi::CallbackInfo& info) {
        return callApiFunction(info, *static_cast<const api::Function*>(info.Data()));
      };
      exports.Set(function.name, Napi::Function::New(env, call, function.name, const_cast<api::Function*>(&function)));
    }
  }
  CoreHandle<optim::Optimizer>::define(env, exports, train::optimizerClass());
  CoreHandle<data::TokenCache>::define(env, exports, data::tokenCacheClass());
  CoreHandle<io::SafetensorsFile>::define(env, exports, io::safetensorsFileClass());
}

}  // namespace moonlight::napi
