#include "napi/safetensors_handle.h"

#include "core/device.h"
#include "core/dtype.h"
#include "core/errors.h"
#include "napi/addon_state.h"
#include "napi/convert.h"
#include "napi/error_bridge.h"
#include "napi/tensor_handle.h"

namespace moonlight::napi {

Napi::Function SafetensorsHandle::defineClass(Napi::Env env) {
  Napi::Function cls = DefineClass(env, "SafetensorsHandle",
                                   {
                                       InstanceMethod<&SafetensorsHandle::keys>("keys"),
                                       InstanceMethod<&SafetensorsHandle::header>("header"),
                                       InstanceMethod<&SafetensorsHandle::metadata>("metadata"),
                                       InstanceMethod<&SafetensorsHandle::get>("get"),
                                       InstanceMethod<&SafetensorsHandle::close>("close"),
                                   });
  addonState(env).safetensorsHandleConstructor = Napi::Persistent(cls);
  return cls;
}

Napi::Object SafetensorsHandle::wrap(Napi::Env env, std::shared_ptr<io::SafetensorsFile> file) {
  Napi::Object object = addonState(env).safetensorsHandleConstructor.New({});
  Unwrap(object)->file_ = std::move(file);
  return object;
}

SafetensorsHandle::SafetensorsHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SafetensorsHandle>(info) {}

const io::SafetensorsFile& SafetensorsHandle::live() const {
  if (!file_) fail(ErrorKind::Disposed, "the safetensors file was closed");
  return *file_;
}

Napi::Object entryToJs(Napi::Env env, const io::SafetensorsEntry& entry) {
  Napi::Object info = Napi::Object::New(env);
  info.Set("dtype", entry.dtype.name);
  info.Set("shape", fromInt64List(env, entry.shape));
  Napi::Array offsets = Napi::Array::New(env, 2);
  offsets.Set(0u, static_cast<double>(entry.begin));
  offsets.Set(1u, static_cast<double>(entry.end));
  info.Set("dataOffsets", offsets);
  return info;
}

Napi::Value SafetensorsHandle::keys(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const auto& entries = live().header().entries;
    Napi::Array names = Napi::Array::New(info.Env(), entries.size());
    for (size_t i = 0; i < entries.size(); ++i) names.Set(static_cast<uint32_t>(i), entries[i].name);
    return names;
  });
}

Napi::Value SafetensorsHandle::header(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    Napi::Object result = Napi::Object::New(info.Env());
    for (const auto& entry : live().header().entries) result.Set(entry.name, entryToJs(info.Env(), entry));
    return result;
  });
}

Napi::Value SafetensorsHandle::metadata(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    Napi::Object result = Napi::Object::New(info.Env());
    for (const auto& [key, value] : live().header().metadata) result.Set(key, value);
    return result;
  });
}

// get(name, {dtype?, device?})
Napi::Value SafetensorsHandle::get(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::string name = toString(argumentAt(info, 0), "name");
    ConversionTarget target = toConversionTarget(argumentAt(info, 1));
    return TensorHandle::wrap(info.Env(), io::convertLoaded(live().tensor(name), target.dtype, target.device));
  });
}

Napi::Value SafetensorsHandle::close(const Napi::CallbackInfo& info) {
  file_.reset();  // tensors already handed out keep the mapping alive on their own
  return info.Env().Undefined();
}

}  // namespace moonlight::napi
