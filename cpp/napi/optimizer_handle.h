// Access to the native optimizer behind a JS OptimizerHandle, for bindings that run an optimizer step inside
// a longer native job (the trainer's step).
#pragma once

#include <memory>

#include <napi.h>

#include "optim/optimizer.h"

namespace moonlight::napi {

// The optimizer of an OptimizerHandle; an ArgumentError naming `argumentName` for anything else.
std::shared_ptr<optim::Optimizer> unwrapOptimizer(const Napi::Value& value, const char* argumentName);

}  // namespace moonlight::napi
