#include "napi/model_handle.h"

#include <mutex>

#include "core/errors.h"
#include "napi/addon_state.h"
#include "napi/convert.h"
#include "napi/error_bridge.h"
#include "models/common/model_creation.h"
#include "napi/json_value.h"
#include "napi/core_handle.h"
#include "napi/promise_worker.h"
#include "napi/tensor_handle.h"
#include "train/model_calls.h"
#include "train/step_json.h"

namespace moonlight::napi {

namespace {

// A tensor argument that may be null/undefined.
at::Tensor optionalTensor(const Napi::Value& value, const char* name) {
  if (value.IsUndefined() || value.IsNull()) return at::Tensor();
  return TensorHandle::unwrap(value, name);
}

models::ForwardInputs readInputs(const Napi::CallbackInfo& info) {
  models::ForwardInputs inputs;
  inputs.inputIds = TensorHandle::unwrap(argumentAt(info, 0), "inputIds");
  inputs.attentionMask = optionalTensor(argumentAt(info, 1), "attentionMask");
  inputs.labels = optionalTensor(argumentAt(info, 2), "labels");
  return inputs;
}

// One micro-batch of trainStepBatches: [inputIds, attentionMask | null, labels].
models::ForwardInputs readMicroBatch(const Napi::Value& entry, const std::string& where) {
  if (!entry.IsArray() || entry.As<Napi::Array>().Length() != 3) {
    fail(ErrorKind::Argument, where + " must be [inputIds, attentionMask | null, labels]");
  }
  Napi::Array triple = entry.As<Napi::Array>();
  models::ForwardInputs inputs;
  inputs.inputIds = TensorHandle::unwrap(triple.Get(0u), (where + "[0] (inputIds)").c_str());
  inputs.attentionMask = optionalTensor(triple.Get(1u), (where + "[1] (attentionMask)").c_str());
  inputs.labels = TensorHandle::unwrap(triple.Get(2u), (where + "[2] (labels)").c_str());
  return inputs;
}

Napi::Value trainStepToJs(Napi::Env env, train::StepOutcome& outcome) { return fromJson(env, train::stepOutcomeToJson(outcome)); }

}  // namespace

std::unique_lock<std::mutex> lockIdle(const models::CausalLM& model) {
  std::unique_lock<std::mutex> lock(model.mutex(), std::try_to_lock);
  if (!lock.owns_lock()) {
    fail(ErrorKind::Argument, "the model is busy with a forward or train step: await it before this call");
  }
  return lock;
}

Napi::Function ModelHandle::defineClass(Napi::Env env) {
  return DefineClass(env, "ModelHandle",
                     {
                         InstanceMethod<&ModelHandle::forward>("forward"),
                         InstanceMethod<&ModelHandle::trainStep>("trainStep"),
                         InstanceMethod<&ModelHandle::trainStepBatches>("trainStepBatches"),
                         InstanceMethod<&ModelHandle::namedTensors>("namedTensors"),
                         InstanceMethod<&ModelHandle::loadStateDict>("loadStateDict"),
                         InstanceMethod<&ModelHandle::setTraining>("setTraining"),
                         InstanceMethod<&ModelHandle::isTraining>("isTraining"),
                         InstanceMethod<&ModelHandle::routerBiases>("routerBiases"),
                         InstanceMethod<&ModelHandle::dispose>("dispose"),
                         InstanceMethod<&ModelHandle::attachLora>("attachLora"),
                         InstanceMethod<&ModelHandle::mergeLora>("mergeLora"),
                         InstanceMethod<&ModelHandle::removeLora>("removeLora"),
                         InstanceMethod<&ModelHandle::loadLora>("loadLora"),
                         InstanceMethod<&ModelHandle::freeze>("freeze"),
                         StaticMethod<&ModelHandle::parameterCounts>("parameterCounts"),
                     });
}

std::shared_ptr<models::CausalLM> ModelHandle::unwrap(const Napi::Value& value, const char* argumentName) {
  if (value.IsObject()) {
    Napi::Object object = value.As<Napi::Object>();
    if (object.InstanceOf(addonState(value.Env()).modelHandleConstructor.Value())) return Unwrap(object)->live();
  }
  fail(ErrorKind::Argument, std::string(argumentName) + " must be a model handle (CausalLM)");
}

ModelHandle::ModelHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelHandle>(info) {
  guard(info.Env(), [&]() {
    if (info.Length() == 1 && info[0].IsExternal()) {  // from wrap(): JS code cannot make an External
      model_ = std::move(*info[0].As<Napi::External<std::shared_ptr<models::CausalLM>>>().Data());
      return;
    }
    model_ = models::createModel(
        models::modelCreationFromJson(toJson(argumentAt(info, 0), "config"), toJson(argumentAt(info, 1), "options")));
  });
}

Napi::Object ModelHandle::wrap(Napi::Env env, std::shared_ptr<models::CausalLM> model) {
  // The constructor moves the model out of the External synchronously, within New().
  return addonState(env).modelHandleConstructor.Value().New(
      {Napi::External<std::shared_ptr<models::CausalLM>>::New(env, &model)});
}

const std::shared_ptr<models::CausalLM>& ModelHandle::live() const {
  if (!model_) fail(ErrorKind::Disposed, "the model was disposed and cannot be used any more");
  return model_;
}

Napi::Value ModelHandle::forward(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<models::CausalLM> model = live();
    models::ForwardInputs inputs = readInputs(info);
    return startPromise<models::ForwardOutputs>(
        info.Env(), "moonlight:forward", [model, inputs]() { return train::forward(*model, inputs); },
        [](Napi::Env env, models::ForwardOutputs& result) -> Napi::Value {
          Napi::Object object = Napi::Object::New(env);
          object.Set("logits", TensorHandle::wrap(env, result.logits));
          object.Set("loss", result.loss.defined() ? TensorHandle::wrap(env, result.loss) : env.Null());
          return object;
        });
  });
}

Napi::Value ModelHandle::trainStep(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<models::CausalLM> model = live();
    models::ForwardInputs inputs = readInputs(info);
    train::TrainStepOptions options = train::trainStepOptionsFromJson(toJson(argumentAt(info, 3), "options"));
    return startPromise<train::StepOutcome>(
        info.Env(), "moonlight:trainStep",
        [model, inputs, options]() { return train::trainStep(*model, {inputs}, options, nullptr); }, trainStepToJs);
  });
}

// trainStepBatches([[inputIds, attentionMask|null, labels], ...], options, optimizer|null): one optimizer step
// over accumulated micro-batches, the optimizer's update included, as one job off the JS thread.
Napi::Value ModelHandle::trainStepBatches(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<models::CausalLM> model = live();
    Napi::Value batchesValue = argumentAt(info, 0);
    if (!batchesValue.IsArray()) fail(ErrorKind::Argument, "microBatches must be an array of [inputIds, attentionMask, labels]");
    Napi::Array batches = batchesValue.As<Napi::Array>();
    std::vector<models::ForwardInputs> microBatches;
    for (uint32_t i = 0; i < batches.Length(); ++i) {
      microBatches.push_back(readMicroBatch(batches.Get(i), "microBatches[" + std::to_string(i) + "]"));
    }
    train::TrainStepOptions options = train::trainStepOptionsFromJson(toJson(argumentAt(info, 1), "options"));
    Napi::Value optimizerValue = argumentAt(info, 2);
    std::shared_ptr<optim::Optimizer> optimizer;
    if (!optimizerValue.IsNull() && !optimizerValue.IsUndefined()) optimizer = CoreHandle<optim::Optimizer>::unwrap(optimizerValue, "optimizer");
    return startPromise<train::StepOutcome>(
        info.Env(), "moonlight:trainStepBatches",
        [model, microBatches, options, optimizer]() { return train::trainStep(*model, microBatches, options, optimizer.get()); },
        trainStepToJs);
  });
}

// namedTensors(kind): kind = "parameters" | "state" (parameters + buffers, checkpoint names) |
// "gradients" | "stacks" (stored tensors, experts as [E, out, in] stacks). Returns [[name, handle|null], ...].
Napi::Value ModelHandle::namedTensors(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const auto& model = live();
    auto lock = lockIdle(*model);
    return TensorHandle::wrapNamed(info.Env(), train::namedTensors(*model, toJson(argumentAt(info, 0), "kind")));
  });
}

// loadStateDict([[name, handle], ...], strict)
Napi::Value ModelHandle::loadStateDict(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const auto& model = live();
    auto lock = lockIdle(*model);
    train::loadStateDict(*model, TensorHandle::unwrapNamed(argumentAt(info, 0), "stateDict"), toBool(argumentAt(info, 1), "strict"));
    return info.Env().Undefined();
  });
}

Napi::Value ModelHandle::setTraining(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const auto& model = live();
    auto lock = lockIdle(*model);
    model->setTraining(toBool(argumentAt(info, 0), "training"));
    return info.Env().Undefined();
  });
}

Napi::Value ModelHandle::isTraining(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), live()->training()); });
}

// Copies of the routers' e_score_correction_bias, one per MoE layer: [[layerIndex, handle], ...].
Napi::Value ModelHandle::routerBiases(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const auto& model = live();
    auto lock = lockIdle(*model);
    return TensorHandle::wrapNamed(info.Env(), train::routerBiases(*model));
  });
}

// ModelHandle.parameterCounts(config, seqLen?) → {total, totalExcludingEmbeddings, activated,
// activatedExcludingEmbeddings, trainingFlopsPerToken (with seqLen)}: from the model built on the meta device.
Napi::Value ModelHandle::parameterCounts(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    return fromJson(info.Env(), train::parameterCounts(toJson(argumentAt(info, 0), "config"), toJson(argumentAt(info, 1), "seqLen")));
  });
}

Napi::Value ModelHandle::dispose(const Napi::CallbackInfo& info) {
  // Jobs in flight keep their own shared_ptr; the memory goes when the last of them finishes.
  model_.reset();
  return info.Env().Undefined();
}

}  // namespace moonlight::napi
