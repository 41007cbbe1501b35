// Fine-tuning bindings of ModelHandle: attach / merge / remove / load LoRA adapters and freeze parameters by
// name. All are quick (no maths beyond one matmul per adapted layer), so they run synchronously, refusing
// while a job holds the model, as the other weight-touching calls do.
#include <mutex>

#include "napi/convert.h"
#include "napi/error_bridge.h"
#include "napi/json_value.h"
#include "napi/model_handle.h"
#include "napi/tensor_handle.h"
#include "train/lora_options.h"

namespace moonlight::napi {

// attachLora(config) -> adapted module names (per expert for routed experts)
Napi::Value ModelHandle::attachLora(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const auto& model = live();
    auto lock = lockIdle(*model);
    return fromJson(info.Env(), train::attachLora(model->parameters(), toJson(argumentAt(info, 0), "lora")));
  });
}

// mergeLora() -> number of adapted layers folded into their weights
Napi::Value ModelHandle::mergeLora(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const auto& model = live();
    auto lock = lockIdle(*model);
    return Napi::Number::New(info.Env(), static_cast<double>(models::mergeLora(model->parameters())));
  });
}

Napi::Value ModelHandle::removeLora(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const auto& model = live();
    auto lock = lockIdle(*model);
    models::removeLora(model->parameters());
    return info.Env().Undefined();
  });
}

// loadLora([[peftName, handle], ...])
Napi::Value ModelHandle::loadLora(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const auto& model = live();
    auto lock = lockIdle(*model);
    models::loadLora(model->parameters(), TensorHandle::unwrapNamed(argumentAt(info, 0), "adapter tensors"));
    return info.Env().Undefined();
  });
}

// freeze(pattern) -> stored names of the tensors frozen
Napi::Value ModelHandle::freeze(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const auto& model = live();
    auto lock = lockIdle(*model);
    return fromJson(info.Env(), model->mutableParameters().freeze(toString(argumentAt(info, 0), "pattern")));
  });
}

}  // namespace moonlight::napi
