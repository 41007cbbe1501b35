#include "napi/tensor_handle.h"

#include "core/errors.h"
#include "core/api_tables.h"
#include "napi/addon_state.h"
#include "napi/api_calls.h"
#include "napi/convert.h"
#include "napi/error_bridge.h"
#include "tensor/host_transfer.h"

namespace moonlight::napi {

Napi::Function TensorHandle::defineClass(Napi::Env env) {
  std::vector<PropertyDescriptor> methods = {
      InstanceMethod<&TensorHandle::dispose>("dispose"),
      InstanceMethod<&TensorHandle::isDisposed>("isDisposed"),
      InstanceMethod<&TensorHandle::hostBytes>("hostBytes"),
      InstanceMethod<&TensorHandle::toHost>("toHost"),
  };
  for (const api::Function& method : tensor::tensorMethods()) {
    methods.push_back(InstanceMethod(method.name, &TensorHandle::callMethod, napi_default, const_cast<api::Function*>(&method)));
  }
  return DefineClass(env, "TensorHandle", methods);
}

Napi::Object TensorHandle::wrap(Napi::Env env, at::Tensor tensor) {
  Napi::Object object = addonState(env).tensorHandleConstructor.New({});
  Unwrap(object)->adopt(std::move(tensor));
  return object;
}

const at::Tensor& TensorHandle::unwrap(const Napi::Value& value, const char* argumentName) {
  if (value.IsObject()) {
    Napi::Object object = value.As<Napi::Object>();
    if (object.InstanceOf(addonState(value.Env()).tensorHandleConstructor.Value())) {
      return Unwrap(object)->live();
    }
  }
  fail(ErrorKind::Argument, std::string(argumentName) + " must be a Tensor");
}

std::vector<std::pair<std::string, at::Tensor>> TensorHandle::unwrapNamed(const Napi::Value& value,
                                                                         const std::string& argumentName) {
  if (!value.IsArray()) fail(ErrorKind::Argument, argumentName + " must be an array of [name, Tensor] pairs");
  Napi::Array entries = value.As<Napi::Array>();
  std::vector<std::pair<std::string, at::Tensor>> result;
  result.reserve(entries.Length());
  for (uint32_t i = 0; i < entries.Length(); ++i) {
    const std::string where = argumentName + "[" + std::to_string(i) + "]";
    Napi::Value entry = entries.Get(i);
    if (!entry.IsArray() || entry.As<Napi::Array>().Length() != 2) fail(ErrorKind::Argument, where + " must be a [name, Tensor] pair");
    Napi::Array pair = entry.As<Napi::Array>();
    std::string name = toString(pair.Get(0u), (where + " name").c_str());
    const at::Tensor& tensor = unwrap(pair.Get(1u), (where + " '" + name + "'").c_str());
    result.emplace_back(std::move(name), tensor);
  }
  return result;
}

TensorHandle::TensorHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorHandle>(info), env_(info.Env()) {}

TensorHandle::~TensorHandle() { release(); }

void TensorHandle::adopt(at::Tensor tensor) {
  tensor_ = std::move(tensor);
  // V8 cannot see libtorch's allocations; telling it about host bytes lets forgotten tensors trigger GC.
  // Device memory is left out on purpose: it would distort V8's heuristics (dispose() is the tool there).
  if (tensor_.defined() && tensor_.device().is_cpu()) {
    reportedHostBytes_ = static_cast<int64_t>(tensor_.nbytes());
    if (reportedHostBytes_ > 0) napi_adjust_external_memory(env_, reportedHostBytes_, nullptr);
  }
}

void TensorHandle::release() {
  if (reportedHostBytes_ > 0) {
    napi_adjust_external_memory(env_, -reportedHostBytes_, nullptr);
    reportedHostBytes_ = 0;
  }
  tensor_ = at::Tensor();
}

const at::Tensor& TensorHandle::live() const {
  if (!tensor_.defined()) fail(ErrorKind::Disposed, "tensor was disposed and cannot be used any more");
  return tensor_;
}

Napi::Value TensorHandle::dispose(const Napi::CallbackInfo& info) {
  release();
  return info.Env().Undefined();
}

Napi::Value TensorHandle::isDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !tensor_.defined());
}

Napi::Value TensorHandle::hostBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(reportedHostBytes_));
}

Napi::Value TensorHandle::toHost(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    return arrayBufferOf(info.Env(), hostReadable(live()));
  });
}

Napi::Value TensorHandle::callMethod(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    return callApiFunction(info, *static_cast<const api::Function*>(info.Data()), &live());
  });
}

}  // namespace moonlight::napi
