// The boundary where C++ exceptions become typed JS errors. Every binding body runs inside guard(); work
// on other threads captures its exception with describeCurrentException() and rejects with makeError().
#pragma once

#include <string>

#include <napi.h>

namespace moonlight::napi {

struct ErrorDescription {
  std::string className;  // a class of src/errors.ts: TorchError, ShapeError, ...
  std::string message;
};

// Call only inside a catch block.
ErrorDescription describeCurrentException();

Napi::Error makeError(Napi::Env env, const ErrorDescription& description);

template <typename Body>
auto guard(Napi::Env env, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw makeError(env, describeCurrentException());
  }
}

// registerErrorClasses({TorchError, ShapeError, ...}): called once by src/native.ts.
Napi::Value registerErrorClasses(const Napi::CallbackInfo& info);

}  // namespace moonlight::napi
