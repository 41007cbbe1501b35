// The JS-visible owner of a native CausalLM. Long work (forward, train step) runs off the JS thread and
// returns a Promise; each job holds a shared_ptr to the model, so it stays alive while in flight, and takes
// the model's mutex, so jobs on one model run one at a time. Synchronous calls that touch the weights
// (loading, listing) refuse with an ArgumentError while a job is running instead of blocking the event loop.
#pragma once

#include <memory>
#include <mutex>

#include <napi.h>

#include "models/common/causal_lm.h"

namespace moonlight::napi {

class ModelHandle : public Napi::ObjectWrap<ModelHandle> {
 public:
  static Napi::Function defineClass(Napi::Env env);

  // new ModelHandle(config, {seed, dtype, device}): a freshly initialised model, made on the JS thread.
  explicit ModelHandle(const Napi::CallbackInfo& info);

  // The JS owner of a model made elsewhere (off the JS thread: createModel and loadPretrainedModel in model_bindings.cpp).
  static Napi::Object wrap(Napi::Env env, std::shared_ptr<models::CausalLM> model);

  // The live model behind a JS value that must be a ModelHandle (ArgumentError for any other object, a
  // DisposedError when disposed), for jobs defined in other bindings files (generation).
  static std::shared_ptr<models::CausalLM> unwrap(const Napi::Value& value, const char* argumentName);

 private:
  Napi::Value forward(const Napi::CallbackInfo& info);
  Napi::Value trainStep(const Napi::CallbackInfo& info);
  Napi::Value trainStepBatches(const Napi::CallbackInfo& info);
  Napi::Value namedTensors(const Napi::CallbackInfo& info);
  Napi::Value loadStateDict(const Napi::CallbackInfo& info);
  Napi::Value setTraining(const Napi::CallbackInfo& info);
  Napi::Value isTraining(const Napi::CallbackInfo& info);
  Napi::Value routerBiases(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);
  // Fine-tuning (model_lora_bindings.cpp): LoRA adapters and freezing.
  Napi::Value attachLora(const Napi::CallbackInfo& info);
  Napi::Value mergeLora(const Napi::CallbackInfo& info);
  Napi::Value removeLora(const Napi::CallbackInfo& info);
  Napi::Value loadLora(const Napi::CallbackInfo& info);
  Napi::Value freeze(const Napi::CallbackInfo& info);

  // Static: counts from a config alone (train/model_size.h).
  static Napi::Value parameterCounts(const Napi::CallbackInfo& info);

  const std::shared_ptr<models::CausalLM>& live() const;

  std::shared_ptr<models::CausalLM> model_;
};

// The sync calls must not wait for a running job (that would block the JS thread): an ArgumentError instead.
std::unique_lock<std::mutex> lockIdle(const models::CausalLM& model);

}  // namespace moonlight::napi
