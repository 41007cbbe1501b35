#include "napi/error_bridge.h"

#include <new>

#include <c10/util/Exception.h>

#include "core/errors.h"
#include "napi/addon_state.h"

namespace moonlight::napi {

ErrorDescription describeCurrentException() {
  try {
    throw;
  } catch (const moonlight::Error& error) {
    return {errorClassName(error.kind()), error.what()};
  } catch (const c10::Error& error) {
    // The backtrace is libtorch-internal noise for a JS user; the message and its context stay.
    return {"TorchError", error.what_without_backtrace()};
  } catch (const std::bad_alloc&) {
    return {"TorchError", "out of memory while allocating a tensor"};
  } catch (const std::exception& error) {
    return {"MoonlightError", error.what()};
  } catch (...) {
    return {"MoonlightError", "unknown native exception"};
  }
}

Napi::Error makeError(Napi::Env env, const ErrorDescription& description) {
  auto& classes = addonState(env).errorClasses;
  auto found = classes.find(description.className);
  if (found == classes.end()) found = classes.find("MoonlightError");
  if (found == classes.end()) return Napi::Error::New(env, description.message);
  Napi::Object error = found->second.New({Napi::String::New(env, description.message)});
  return Napi::Error(env, error);
}

Napi::Value registerErrorClasses(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsObject()) {
    throw Napi::TypeError::New(env, "registerErrorClasses expects an object of error classes");
  }
  Napi::Object classes = info[0].As<Napi::Object>();
  Napi::Array names = classes.GetPropertyNames();
  auto& registry = addonState(env).errorClasses;
  for (uint32_t i = 0; i < names.Length(); ++i) {
    std::string name = names.Get(i).As<Napi::String>().Utf8Value();
    Napi::Value value = classes.Get(name);
    if (!value.IsFunction()) {
      throw Napi::TypeError::New(env, "registerErrorClasses: '" + name + "' is not a class");
    }
    registry[name] = Napi::Persistent(value.As<Napi::Function>());
  }
  return env.Undefined();
}

}  // namespace moonlight::napi
