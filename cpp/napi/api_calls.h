// The generic caller of the core's tables (core/api_function.h), for the addon's functions, TensorHandle's
// methods and the methods of CoreHandle classes alike: it unwraps each argument as its parameter's kind
// says, makes the entry's one call and wraps the result (settling a Promise with it for the entries that
// run off the JS thread).
#pragma once

#include <vector>

#include <napi.h>

#include "core/api_function.h"

namespace moonlight::napi {

// The JS arguments for `parameters`, after `leading` (a method's own tensor, for instance).
api::Arguments readArguments(const Napi::CallbackInfo& info, const std::vector<api::Parameter>& parameters,
                             std::vector<api::Argument> leading = {});

Napi::Value resultToJs(Napi::Env env, api::Result& result);

// `result` for JS at once, or a Promise settled with the result of `job`, which runs off the JS thread.
Napi::Value respond(Napi::Env env, api::Result result);
Napi::Value respondLater(Napi::Env env, const char* name, api::Job job);

// `self`: a method's own tensor, parameter 0; the JS arguments then fill the parameters after it.
Napi::Value callApiFunction(const Napi::CallbackInfo& info, const api::Function& function, const at::Tensor* self = nullptr);

}  // namespace moonlight::napi
