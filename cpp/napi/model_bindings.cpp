// Registers the model classes and functions (src/models/ is their TypeScript side).
#include <ATen/ATen.h>

#include "core/errors.h"
#include "models/deepseek_v3/load_balance.h"
#include "napi/addon_state.h"
#include "napi/bindings.h"
#include "napi/convert.h"
#include "napi/error_bridge.h"
#include "napi/model_handle.h"
#include "napi/tensor_handle.h"

namespace moonlight::napi {

namespace {

// balanceLoss(scores [B,T,E], indices [B,T,K], alpha, perSequence): the MoE balance loss on given routing,
// for tests and diagnostics.
Napi::Value balanceLoss(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    at::Tensor scores = TensorHandle::unwrap(argumentAt(info, 0), "scores");
    at::Tensor indices = TensorHandle::unwrap(argumentAt(info, 1), "indices");
    double alpha = toDouble(argumentAt(info, 2), "alpha");
    bool perSequence = toBool(argumentAt(info, 3), "perSequence");
    if (scores.dim() != 3 || indices.dim() != 3 || scores.size(0) != indices.size(0) ||
        scores.size(1) != indices.size(1)) {
      fail(ErrorKind::Shape, "scores must be [B, T, E] and indices [B, T, K]");
    }
    return TensorHandle::wrap(info.Env(), models::balanceLoss(scores, indices.to(at::kLong), alpha, perSequence));
  });
}

}  // namespace

void registerModels(Napi::Env env, Napi::Object exports) {
  Napi::Function constructor = ModelHandle::defineClass(env);
  addonState(env).modelHandleConstructor = Napi::Persistent(constructor);
  exports.Set("ModelHandle", constructor);
  exports.Set("balanceLoss", Napi::Function::New<balanceLoss>(env, "balanceLoss"));
}

}  // namespace moonlight::napi
