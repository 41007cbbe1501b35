// The checkpoint bindings the core's tables cannot express: opening a safetensors file hands JS a handle
// (the class io::safetensorsFileClass describes), and rawBytes copies a tensor's bytes into JS memory. The
// other checkpoint functions are the core's table (io/checkpoint_api.cpp).
#include "io/safetensors_reader.h"
#include "napi/bindings.h"
#include "napi/convert.h"
#include "napi/core_handle.h"
#include "napi/promise_worker.h"
#include "napi/tensor_handle.h"

namespace moonlight::napi {

namespace {

using SafetensorsHandle = CoreHandle<io::SafetensorsFile>;

// safetensorsOpen(path) → Promise<SafetensorsHandle>: the file is mapped and validated off the JS thread.
Napi::Value safetensorsOpen(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::string path = toString(argumentAt(info, 0), "path");
    return startPromise<std::shared_ptr<io::SafetensorsFile>>(
        info.Env(), "moonlight:safetensorsOpen", [path]() { return io::SafetensorsFile::open(path); },
        [](Napi::Env env, std::shared_ptr<io::SafetensorsFile>& file) -> Napi::Value {
          return SafetensorsHandle::wrap(env, std::move(file));
        });
  });
}

// rawBytes(tensor) → Uint8Array: the bytes as stored (any dtype, float8 included), for exact comparisons.
Napi::Value rawBytes(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const at::Tensor host = TensorHandle::unwrap(argumentAt(info, 0), "tensor").detach().to(c10::DeviceType::CPU).contiguous();
    Napi::ArrayBuffer buffer = arrayBufferOf(info.Env(), host);
    return Napi::Uint8Array::New(info.Env(), buffer.ByteLength(), buffer, 0);
  });
}

}  // namespace

void registerIo(Napi::Env env, Napi::Object exports) {
  exports.Set("safetensorsOpen", Napi::Function::New<safetensorsOpen>(env, "safetensorsOpen"));
  exports.Set("rawBytes", Napi::Function::New<rawBytes>(env, "rawBytes"));
}

}  // namespace moonlight::napi
