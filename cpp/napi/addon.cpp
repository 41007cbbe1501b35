// The addon's entry point: module-level facts and the registration of every binding file.
#include <napi.h>

#include <torch/version.h>

#include "core/device.h"
#include "napi/addon_state.h"
#include "napi/bindings.h"
#include "napi/error_bridge.h"
#include "napi/tensor_handle.h"

namespace moonlight::napi {

AddonState& addonState(Napi::Env env) { return *env.GetInstanceData<AddonState>(); }

namespace {

Napi::Value cudaAvailable(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), moonlight::cudaAvailable()); });
}

Napi::Value cudaDeviceCount(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), moonlight::cudaDeviceCount());
  });
}

}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonState());
  Napi::Function tensorHandle = TensorHandle::defineClass(env);
  addonState(env).tensorHandleConstructor = Napi::Persistent(tensorHandle);
  exports.Set("TensorHandle", tensorHandle);
  // The version of the libtorch headers this addon was compiled with; src/native.ts compares it with the
  // libtorch it loads.
  exports.Set("libtorchVersion", Napi::String::New(env, TORCH_VERSION));
  exports.Set("libtorchRoute", Napi::String::New(env, MOONLIGHT_LIBTORCH_ROUTE));
  exports.Set("registerErrorClasses", Napi::Function::New<registerErrorClasses>(env, "registerErrorClasses"));
  exports.Set("cudaAvailable", Napi::Function::New<cudaAvailable>(env, "cudaAvailable"));
  exports.Set("cudaDeviceCount", Napi::Function::New<cudaDeviceCount>(env, "cudaDeviceCount"));
  registerApi(env, exports);
  registerIo(env, exports);
  registerModels(env, exports);
  registerGenerate(env, exports);
  registerPlan(env, exports);
  return exports;
}

}  // namespace moonlight::napi

static Napi::Object initMoonlightAddon(Napi::Env env, Napi::Object exports) {
  return moonlight::napi::init(env, exports);
}

NODE_API_MODULE(moonlight, initMoonlightAddon)
