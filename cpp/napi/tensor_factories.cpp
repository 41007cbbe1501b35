// Tensor creation bindings: from host data, constant fills, ranges and seeded random tensors (and the
// default generators' state).
#include <ATen/ATen.h>
#include <torch/utils.h>

#include "core/device.h"
#include "core/dtype.h"
#include "core/errors.h"
#include "core/rng_state.h"
#include "napi/bindings.h"
#include "napi/convert.h"
#include "napi/error_bridge.h"
#include "napi/tensor_handle.h"
#include "tensor/host_transfer.h"

namespace moonlight::napi {

namespace {

// fromHost(bytes: ArrayBufferView, sourceDtype, shape, options)
Napi::Value fromHost(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    Napi::Value data = argumentAt(info, 0);
    if (!data.IsTypedArray()) fail(ErrorKind::Argument, "data must be a TypedArray");
    Napi::TypedArray view = data.As<Napi::TypedArray>();
    const auto* bytes = static_cast<const uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset();
    c10::ScalarType sourceType = scalarTypeFromName(toString(argumentAt(info, 1), "sourceDtype"));
    std::vector<int64_t> shape = toInt64List(argumentAt(info, 2), "shape");
    TensorSpec spec = toTensorSpec(argumentAt(info, 3), sourceType);
    return TensorHandle::wrap(info.Env(), tensorFromHost(bytes, view.ByteLength(), sourceType, shape, spec));
  });
}

template <at::Tensor (*Fill)(at::IntArrayRef, at::TensorOptions)>
Napi::Value filled(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::vector<int64_t> shape = toInt64List(argumentAt(info, 0), "shape");
    checkShape(shape, "shape");
    TensorSpec spec = toTensorSpec(argumentAt(info, 1));
    return TensorHandle::wrap(info.Env(), applyRequiresGrad(Fill(shape, spec.options()), spec));
  });
}

at::Tensor zerosOf(at::IntArrayRef shape, at::TensorOptions options) { return at::zeros(shape, options); }
at::Tensor onesOf(at::IntArrayRef shape, at::TensorOptions options) { return at::ones(shape, options); }
// Draws from libtorch's default generator, which manualSeed() seeds: the same stream torch.randn uses.
at::Tensor randnOf(at::IntArrayRef shape, at::TensorOptions options) { return at::randn(shape, options); }
at::Tensor randOf(at::IntArrayRef shape, at::TensorOptions options) { return at::rand(shape, options); }

// full(shape, value, options)
Napi::Value full(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::vector<int64_t> shape = toInt64List(argumentAt(info, 0), "shape");
    checkShape(shape, "shape");
    double value = toDouble(argumentAt(info, 1), "value");
    TensorSpec spec = toTensorSpec(argumentAt(info, 2));
    return TensorHandle::wrap(info.Env(), applyRequiresGrad(at::full(shape, value, spec.options()), spec));
  });
}

// arange(start, end, step, options)
Napi::Value arange(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    double start = toDouble(argumentAt(info, 0), "start");
    double end = toDouble(argumentAt(info, 1), "end");
    double step = toDouble(argumentAt(info, 2), "step");
    if (step == 0) fail(ErrorKind::Argument, "step must be non-zero");
    TensorSpec spec = toTensorSpec(argumentAt(info, 3));
    return TensorHandle::wrap(info.Env(), applyRequiresGrad(at::arange(start, end, step, spec.options()), spec));
  });
}

Napi::Value manualSeed(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    int64_t seed = toInt64(argumentAt(info, 0), "seed");
    if (seed < 0) fail(ErrorKind::Argument, "seed must be a non-negative integer");
    torch::manual_seed(static_cast<uint64_t>(seed));
    return info.Env().Undefined();
  });
}

// The device argument of rngState/setRngState: 'cpu' when absent.
c10::Device generatorDevice(const Napi::Value& value) {
  if (value.IsUndefined() || value.IsNull()) return c10::Device(c10::kCPU);
  return parseDevice(toString(value, "device"));
}

// rngState(device?) → uint8 TensorHandle
Napi::Value rngState(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    return TensorHandle::wrap(info.Env(), defaultGeneratorState(generatorDevice(argumentAt(info, 0))));
  });
}

// setRngState(state, device?)
Napi::Value setRngState(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    at::Tensor state = TensorHandle::unwrap(argumentAt(info, 0), "state");
    setDefaultGeneratorState(generatorDevice(argumentAt(info, 1)), state);
    return info.Env().Undefined();
  });
}

}  // namespace

void registerTensorFactories(Napi::Env env, Napi::Object exports) {
  exports.Set("fromHost", Napi::Function::New<fromHost>(env, "fromHost"));
  exports.Set("zeros", Napi::Function::New<filled<zerosOf>>(env, "zeros"));
  exports.Set("ones", Napi::Function::New<filled<onesOf>>(env, "ones"));
  exports.Set("randn", Napi::Function::New<filled<randnOf>>(env, "randn"));
  exports.Set("rand", Napi::Function::New<filled<randOf>>(env, "rand"));
  exports.Set("full", Napi::Function::New<full>(env, "full"));
  exports.Set("arange", Napi::Function::New<arange>(env, "arange"));
  exports.Set("manualSeed", Napi::Function::New<manualSeed>(env, "manualSeed"));
  exports.Set("rngState", Napi::Function::New<rngState>(env, "rngState"));
  exports.Set("setRngState", Napi::Function::New<setRngState>(env, "setRngState"));
}

}  // namespace moonlight::napi
