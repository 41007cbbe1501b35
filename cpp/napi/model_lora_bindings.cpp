// Fine-tuning bindings of ModelHandle: attach / merge / remove / load LoRA adapters and freeze parameters by
// name. All are quick (no maths beyond one matmul per adapted layer), so they run synchronously, refusing
// while a job holds the model, as the other weight-touching calls do.
#include <mutex>

#include "core/errors.h"
#include "models/common/lora.h"
#include "napi/convert.h"
#include "napi/error_bridge.h"
#include "napi/model_handle.h"
#include "napi/tensor_handle.h"

namespace moonlight::napi {

namespace {

Napi::Array stringArray(Napi::Env env, const std::vector<std::string>& values) {
  Napi::Array array = Napi::Array::New(env, values.size());
  for (uint32_t i = 0; i < values.size(); ++i) array.Set(i, values[i]);
  return array;
}

// {rank, alpha, dropout, useRslora, targetModules: string[] | 'all-linear', seed}, validated in TS first.
models::LoraConfig toLoraConfig(const Napi::Value& value) {
  if (!value.IsObject()) fail(ErrorKind::Argument, "LoRA config must be an object");
  Napi::Object object = value.As<Napi::Object>();
  models::LoraConfig config;
  config.rank = toInt64(object.Get("rank"), "lora.rank");
  config.alpha = toDouble(object.Get("alpha"), "lora.alpha");
  config.dropout = toDouble(object.Get("dropout"), "lora.dropout");
  config.useRslora = toBool(object.Get("useRslora"), "lora.useRslora");
  config.seed = static_cast<uint64_t>(toInt64(object.Get("seed"), "lora.seed"));
  Napi::Value targets = object.Get("targetModules");
  if (targets.IsString() && targets.As<Napi::String>().Utf8Value() == "all-linear") {
    config.allLinear = true;
  } else if (targets.IsArray()) {
    Napi::Array array = targets.As<Napi::Array>();
    for (uint32_t i = 0; i < array.Length(); ++i) config.targetModules.push_back(toString(array.Get(i), "lora.targetModules[]"));
  } else {
    fail(ErrorKind::Argument, "lora.targetModules must be 'all-linear' or an array of module names");
  }
  return config;
}

}  // namespace

// attachLora(config) -> adapted module names (per expert for routed experts)
Napi::Value ModelHandle::attachLora(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const auto& model = live();
    auto lock = lockIdle(*model);
    return stringArray(info.Env(), models::attachLora(model->parameters(), toLoraConfig(argumentAt(info, 0))));
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
    return stringArray(info.Env(), model->mutableParameters().freeze(toString(argumentAt(info, 0), "pattern")));
  });
}

}  // namespace moonlight::napi
