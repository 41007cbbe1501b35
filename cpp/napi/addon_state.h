// Per-environment state of the addon (one per Node main thread or worker_thread): constructors and the
// JS error classes registered by src/native.ts.
#pragma once

#include <map>
#include <string>

#include <napi.h>

namespace moonlight::napi {

struct AddonState {
  Napi::FunctionReference tensorHandleConstructor;
  Napi::FunctionReference modelHandleConstructor;
  std::map<std::string, Napi::FunctionReference> handleClasses;  // napi/core_handle.h, by class name
  std::map<std::string, Napi::FunctionReference> errorClasses;
};

AddonState& addonState(Napi::Env env);

}  // namespace moonlight::napi
