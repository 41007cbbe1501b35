#include "napi/tensor_handle.h"

#include <cstring>

#include "core/device.h"
#include "core/dtype.h"
#include "core/errors.h"
#include "napi/addon_state.h"
#include "napi/convert.h"
#include "napi/error_bridge.h"
#include "tensor/host_transfer.h"

namespace moonlight::napi {

Napi::Function TensorHandle::defineClass(Napi::Env env) {
  return DefineClass(env, "TensorHandle",
                     {
                         InstanceMethod<&TensorHandle::dispose>("dispose"),
                         InstanceMethod<&TensorHandle::isDisposed>("isDisposed"),
                         InstanceMethod<&TensorHandle::meta>("meta"),
                         InstanceMethod<&TensorHandle::numel>("numel"),
                         InstanceMethod<&TensorHandle::hostBytes>("hostBytes"),
                         InstanceMethod<&TensorHandle::requiresGrad>("requiresGrad"),
                         InstanceMethod<&TensorHandle::setRequiresGrad>("setRequiresGrad"),
                         InstanceMethod<&TensorHandle::grad>("grad"),
                         InstanceMethod<&TensorHandle::setGrad>("setGrad"),
                         InstanceMethod<&TensorHandle::backward>("backward"),
                         InstanceMethod<&TensorHandle::item>("item"),
                         InstanceMethod<&TensorHandle::toHost>("toHost"),
                     });
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

Napi::Value TensorHandle::meta(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const at::Tensor& tensor = live();
    Napi::Object result = Napi::Object::New(info.Env());
    result.Set("shape", fromInt64List(info.Env(), tensor.sizes()));
    result.Set("dtype", dtypeName(tensor.scalar_type()));
    result.Set("device", deviceName(tensor.device()));
    return result;
  });
}

Napi::Value TensorHandle::numel(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<double>(live().numel()));
  });
}

Napi::Value TensorHandle::hostBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(reportedHostBytes_));
}

Napi::Value TensorHandle::requiresGrad(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), live().requires_grad()); });
}

Napi::Value TensorHandle::setRequiresGrad(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    bool flag = toBool(argumentAt(info, 0), "requiresGrad");
    at::Tensor tensor = live();
    if (flag && !c10::isFloatingType(tensor.scalar_type())) {
      fail(ErrorKind::DType, "requiresGrad needs a floating dtype, got " + dtypeName(tensor.scalar_type()));
    }
    tensor.set_requires_grad(flag);
    return info.Env().Undefined();
  });
}

Napi::Value TensorHandle::grad(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const at::Tensor& grad = live().grad();
    if (!grad.defined()) return info.Env().Null();
    return wrap(info.Env(), grad);
  });
}

Napi::Value TensorHandle::setGrad(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    at::Tensor tensor = live();
    Napi::Value value = argumentAt(info, 0);
    if (value.IsNull() || value.IsUndefined()) {
      tensor.mutable_grad() = at::Tensor();
      return info.Env().Undefined();
    }
    const at::Tensor& grad = unwrap(value, "grad");
    if (!grad.sizes().equals(tensor.sizes())) {
      fail(ErrorKind::Shape, "grad has shape " + c10::str(grad.sizes()) + " but the tensor has shape " +
                                 c10::str(tensor.sizes()));
    }
    if (grad.scalar_type() != tensor.scalar_type() || grad.device() != tensor.device()) {
      fail(ErrorKind::DType, "grad must have the tensor's dtype and device (" + dtypeName(tensor.scalar_type()) +
                                 " on " + deviceName(tensor.device()) + ")");
    }
    tensor.mutable_grad() = grad.detach();
    return info.Env().Undefined();
  });
}

Napi::Value TensorHandle::backward(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const at::Tensor& tensor = live();
    Napi::Value gradient = argumentAt(info, 0);
    Napi::Value retain = argumentAt(info, 1);
    at::Tensor outputGradient;
    if (!gradient.IsUndefined() && !gradient.IsNull()) outputGradient = unwrap(gradient, "gradient");
    std::optional<bool> retainGraph;
    if (!retain.IsUndefined()) retainGraph = toBool(retain, "retainGraph");
    tensor.backward(outputGradient, retainGraph, /*create_graph=*/false);
    return info.Env().Undefined();
  });
}

Napi::Value TensorHandle::item(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const at::Tensor& tensor = live();
    if (tensor.numel() != 1) {
      fail(ErrorKind::Shape, "item() needs a tensor with exactly one element, got shape " + c10::str(tensor.sizes()));
    }
    if (tensor.scalar_type() == c10::ScalarType::Bool) return Napi::Boolean::New(info.Env(), tensor.item<bool>());
    return Napi::Number::New(info.Env(), tensor.item<double>());
  });
}

Napi::Value TensorHandle::toHost(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    at::Tensor host = hostReadable(live());
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(info.Env(), host.nbytes());
    if (host.nbytes() > 0) std::memcpy(buffer.Data(), host.data_ptr(), host.nbytes());
    return buffer;
  });
}

}  // namespace moonlight::napi
