// Registers the model classes and functions (src/models/ is their TypeScript side).
#include <ATen/ATen.h>

#include "core/errors.h"
#include "models/common/model_config.h"
#include "models/common/model_creation.h"
#include "models/deepseek_v3/load_balance.h"
#include "napi/addon_state.h"
#include "napi/bindings.h"
#include "napi/convert.h"
#include "napi/error_bridge.h"
#include "napi/json_value.h"
#include "napi/model_handle.h"
#include "napi/promise_worker.h"
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

// checkModelConfig(config): the core's reading and checks of a model config (a ConfigError naming the key),
// so a config is refused when it is parsed, with the words every native entry point uses.
Napi::Value checkModelConfig(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    models::modelConfigFromJson(toJson(argumentAt(info, 0), "config"));
    return info.Env().Undefined();
  });
}

// createModel(config, {seed, dtype, device}) → Promise<ModelHandle>: options are checked at once, the
// weights are allocated and initialised on a worker thread.
Napi::Value createModel(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    models::ModelCreation creation =
        models::modelCreationFromJson(toJson(argumentAt(info, 0), "config"), toJson(argumentAt(info, 1), "options"));
    return startPromise<std::shared_ptr<models::CausalLM>>(
        info.Env(), "moonlight:createModel", [creation]() { return models::createModel(creation); },
        [](Napi::Env env, std::shared_ptr<models::CausalLM>& model) -> Napi::Value {
          return ModelHandle::wrap(env, std::move(model));
        });
  });
}

// loadPretrainedModel(config, directory, {dtype, device}) → Promise<{model, unexpected}>: the model built
// without initialisation and filled from the folder's safetensors files, on a worker thread.
Napi::Value loadPretrainedModel(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    models::ModelCreation creation =
        models::modelCreationFromJson(toJson(argumentAt(info, 0), "config"), toJson(argumentAt(info, 2), "options"));
    std::string directory = toString(argumentAt(info, 1), "directory");
    return startPromise<models::PretrainedModel>(
        info.Env(), "moonlight:loadPretrainedModel",
        [creation, directory]() { return models::loadPretrainedModel(creation, directory); },
        [](Napi::Env env, models::PretrainedModel& loaded) -> Napi::Value {
          Napi::Object result = Napi::Object::New(env);
          result.Set("model", ModelHandle::wrap(env, std::move(loaded.model)));
          Napi::Array unexpected = Napi::Array::New(env, loaded.unexpected.size());
          for (uint32_t i = 0; i < loaded.unexpected.size(); ++i) unexpected.Set(i, loaded.unexpected[i]);
          result.Set("unexpected", unexpected);
          return result;
        });
  });
}

}  // namespace

void registerModels(Napi::Env env, Napi::Object exports) {
  Napi::Function constructor = ModelHandle::defineClass(env);
  addonState(env).modelHandleConstructor = Napi::Persistent(constructor);
  exports.Set("ModelHandle", constructor);
  exports.Set("checkModelConfig", Napi::Function::New<checkModelConfig>(env, "checkModelConfig"));
  exports.Set("createModel", Napi::Function::New<createModel>(env, "createModel"));
  exports.Set("loadPretrainedModel", Napi::Function::New<loadPretrainedModel>(env, "loadPretrainedModel"));
  exports.Set("balanceLoss", Napi::Function::New<balanceLoss>(env, "balanceLoss"));
}

}  // namespace moonlight::napi
