// The JS class of a handle on one core object (an optimizer, a token cache, an open safetensors file), as
// the core's api::HandleClass<Self> describes it: its constructor and methods are the table's entries,
// called through the generic caller (napi/api_calls.h), and its release method drops the object at once.
// Jobs in flight hold their own shared_ptr, so releasing a handle meanwhile frees nothing they read.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <napi.h>

#include "core/api_function.h"
#include "core/errors.h"
#include "napi/addon_state.h"
#include "napi/api_calls.h"
#include "napi/error_bridge.h"

namespace moonlight::napi {

template <typename Self>
class CoreHandle : public Napi::ObjectWrap<CoreHandle<Self>> {
 public:
  using Base = Napi::ObjectWrap<CoreHandle<Self>>;

  // Defines the class (once per environment) and sets it on `exports` under its name.
  static void define(Napi::Env env, Napi::Object exports, const api::HandleClass<Self>& spec) {
    spec_ = &spec;
    std::vector<typename Base::PropertyDescriptor> methods = {
        Base::InstanceMethod(spec.release, &CoreHandle::release)};
    for (const api::Method<Self>& method : spec.methods) {
      methods.push_back(Base::InstanceMethod(method.name, &CoreHandle::callMethod, napi_default,
                                             const_cast<api::Method<Self>*>(&method)));
    }
    Napi::Function constructor = Base::DefineClass(env, spec.name, methods);
    addonState(env).handleClasses[spec.name] = Napi::Persistent(constructor);
    exports.Set(spec.name, constructor);
  }

  // A new JS handle on `object` (on the JS thread only).
  static Napi::Object wrap(Napi::Env env, std::shared_ptr<Self> object) {
    wrapping_ = true;
    Napi::Object handle = constructor(env).New({});
    wrapping_ = false;
    Base::Unwrap(handle)->self_ = std::move(object);
    return handle;
  }

  // The object of a live handle; ArgumentError naming `argumentName` for any other value, DisposedError
  // once released.
  static std::shared_ptr<Self> unwrap(const Napi::Value& value, const char* argumentName) {
    if (value.IsObject() && value.As<Napi::Object>().InstanceOf(constructor(value.Env()))) {
      return Base::Unwrap(value.As<Napi::Object>())->live();
    }
    fail(ErrorKind::Argument, std::string(argumentName) + " must be " + spec_->expected);
  }

  explicit CoreHandle(const Napi::CallbackInfo& info) : Base(info) {
    if (wrapping_ || !spec_->construct) return;  // wrap() fills it in
    guard(info.Env(), [&]() { self_ = spec_->construct(readArguments(info, spec_->constructorParameters)); });
  }

 private:
  static Napi::Function constructor(Napi::Env env) { return addonState(env).handleClasses.at(spec_->name).Value(); }

  const std::shared_ptr<Self>& live() const {
    if (!self_) fail(ErrorKind::Disposed, spec_->releasedMessage);
    return self_;
  }

  Napi::Value callMethod(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value {
      const auto& method = *static_cast<const api::Method<Self>*>(info.Data());
      const std::shared_ptr<Self>& self = live();
      const api::Arguments arguments = readArguments(info, method.parameters);
      if (method.run) return respond(info.Env(), method.run(*self, arguments));
      return respondLater(info.Env(), method.name, method.start(self, arguments));
    });
  }

  Napi::Value release(const Napi::CallbackInfo& info) {
    self_.reset();
    return info.Env().Undefined();
  }

  static inline const api::HandleClass<Self>* spec_ = nullptr;
  static inline bool wrapping_ = false;
  std::shared_ptr<Self> self_;
};

}  // namespace moonlight::napi
