#include "napi/model_handle.h"

#include <mutex>

#include "core/device.h"
#include "core/dtype.h"
#include "core/errors.h"
#include "napi/addon_state.h"
#include "napi/convert.h"
#include "napi/error_bridge.h"
#include "models/common/model_creation.h"
#include "napi/json_value.h"
#include "napi/optimizer_handle.h"
#include "napi/promise_worker.h"
#include "napi/tensor_handle.h"
#include "train/model_size.h"
#include "train/step_runner.h"
#include "napi/step_diagnostics_convert.h"

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

Napi::Value tensorOrNull(Napi::Env env, const at::Tensor& tensor) {
  return tensor.defined() ? TensorHandle::wrap(env, tensor) : env.Null();
}

train::TrainStepOptions readTrainOptions(const Napi::Value& value) {
  train::TrainStepOptions options;
  if (value.IsUndefined() || value.IsNull()) return options;
  if (!value.IsObject()) fail(ErrorKind::Argument, "options must be an object");
  Napi::Object object = value.As<Napi::Object>();
  auto present = [&](const char* key) {
    Napi::Value field = object.Get(key);
    return !field.IsUndefined() && !field.IsNull();
  };
  if (present("precision")) options.precision = train::parsePrecision(toString(object.Get("precision"), "options.precision"));
  if (present("maxGradNorm")) options.maxGradNorm = toDouble(object.Get("maxGradNorm"), "options.maxGradNorm");
  if (present("auxLossAlpha")) options.auxLossAlpha = toDouble(object.Get("auxLossAlpha"), "options.auxLossAlpha");
  if (present("routerBiasUpdateRate")) {
    options.routerBiasUpdateRate = toDouble(object.Get("routerBiasUpdateRate"), "options.routerBiasUpdateRate");
  }
  readDiagnosticOptions(object, options);
  return options;
}

Napi::Array numbers(Napi::Env env, const std::vector<double>& values) {
  Napi::Array array = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); ++i) array.Set(static_cast<uint32_t>(i), values[i]);
  return array;
}

struct ForwardResult {
  at::Tensor logits;
  at::Tensor loss;
};

Napi::Value trainStepToJs(Napi::Env env, train::StepOutcome& outcome) {
  const train::TrainStepResult& result = outcome.metrics;
  Napi::Object object = Napi::Object::New(env);
  object.Set("loss", result.loss);
  object.Set("lmLoss", result.lmLoss);
  object.Set("auxLoss", result.auxLoss);
  object.Set("gradNorm", result.gradNorm);
  object.Set("clipCoefficient", result.clipCoefficient);
  object.Set("tokens", static_cast<double>(result.tokens));
  Napi::Array layers = Napi::Array::New(env, result.moeLayerIndices.size());
  Napi::Array load = Napi::Array::New(env, result.expertLoad.size());
  for (uint32_t i = 0; i < result.moeLayerIndices.size(); ++i) {
    layers.Set(i, static_cast<double>(result.moeLayerIndices[i]));
    load.Set(i, numbers(env, result.expertLoad[i]));
  }
  object.Set("moeLayers", layers);
  object.Set("expertLoad", load);
  object.Set("optimizerSkipped", outcome.optimizer.skipped);
  Napi::Array nonFinite = Napi::Array::New(env, outcome.optimizer.nonFiniteParameters.size());
  for (uint32_t i = 0; i < nonFinite.Length(); ++i) nonFinite.Set(i, outcome.optimizer.nonFiniteParameters[i]);
  object.Set("nonFiniteParameters", nonFinite);
  setDiagnostics(env, object, result, outcome.diagnostics);
  return object;
}

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
    return PromiseWorker<ForwardResult>::start(
        info.Env(), "moonlight:forward",
        [model, inputs]() {
          std::lock_guard<std::mutex> lock(model->mutex());
          // The graph is recorded only in training mode (so loss.backward() works); eval() is inference.
          at::AutoGradMode gradMode(model->training());
          models::ForwardOutputs outputs = model->forward(inputs);
          return ForwardResult{outputs.logits, outputs.loss};
        },
        [](Napi::Env env, ForwardResult& result) -> Napi::Value {
          Napi::Object object = Napi::Object::New(env);
          object.Set("logits", TensorHandle::wrap(env, result.logits));
          object.Set("loss", tensorOrNull(env, result.loss));
          return object;
        });
  });
}

Napi::Value ModelHandle::trainStep(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<models::CausalLM> model = live();
    models::ForwardInputs inputs = readInputs(info);
    train::TrainStepOptions options = readTrainOptions(argumentAt(info, 3));
    return PromiseWorker<train::StepOutcome>::start(
        info.Env(), "moonlight:trainStep",
        [model, inputs, options]() {
          std::lock_guard<std::mutex> lock(model->mutex());
          return train::runTrainStep(*model, {inputs}, options);
        },
        trainStepToJs);
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
      const std::string where = "microBatches[" + std::to_string(i) + "]";
      Napi::Value entry = batches.Get(i);
      if (!entry.IsArray() || entry.As<Napi::Array>().Length() != 3) {
        fail(ErrorKind::Argument, where + " must be [inputIds, attentionMask | null, labels]");
      }
      Napi::Array triple = entry.As<Napi::Array>();
      models::ForwardInputs inputs;
      inputs.inputIds = TensorHandle::unwrap(triple.Get(0u), (where + "[0] (inputIds)").c_str());
      inputs.attentionMask = optionalTensor(triple.Get(1u), (where + "[1] (attentionMask)").c_str());
      inputs.labels = TensorHandle::unwrap(triple.Get(2u), (where + "[2] (labels)").c_str());
      microBatches.push_back(std::move(inputs));
    }
    train::TrainStepOptions options = readTrainOptions(argumentAt(info, 1));
    Napi::Value optimizerValue = argumentAt(info, 2);
    std::shared_ptr<optim::Optimizer> optimizer;
    if (!optimizerValue.IsNull() && !optimizerValue.IsUndefined()) optimizer = unwrapOptimizer(optimizerValue, "optimizer");
    return PromiseWorker<train::StepOutcome>::start(
        info.Env(), "moonlight:trainStepBatches",
        [model, microBatches, options, optimizer]() {
          std::lock_guard<std::mutex> lock(model->mutex());
          return train::runTrainStep(*model, microBatches, options, optimizer.get());
        },
        trainStepToJs);
  });
}

// namedTensors(kind): kind = "parameters" | "state" (parameters + buffers, checkpoint names) |
// "gradients" | "stacks" (stored tensors, experts as [E, out, in] stacks). Returns [[name, handle|null], ...].
Napi::Value ModelHandle::namedTensors(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const auto& model = live();
    auto lock = lockIdle(*model);
    const std::string kind = toString(argumentAt(info, 0), "kind");
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    if (kind == "parameters") {
      tensors = model->parameters().checkpointTensors(false, true, /*leaves=*/true);
    } else if (kind == "state") {
      tensors = model->parameters().checkpointTensors(false, false);
    } else if (kind == "gradients") {
      tensors = model->parameters().checkpointTensors(true, true);
    } else if (kind == "stacks") {
      tensors = model->parameters().storedTensors(true);
    } else {
      fail(ErrorKind::Argument, "kind must be 'parameters', 'state', 'gradients' or 'stacks', got '" + kind + "'");
    }
    Napi::Env env = info.Env();
    Napi::Array result = Napi::Array::New(env, tensors.size());
    for (uint32_t i = 0; i < tensors.size(); ++i) {
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, tensors[i].first);
      pair.Set(1u, tensorOrNull(env, tensors[i].second));
      result.Set(i, pair);
    }
    return result;
  });
}

// loadStateDict([[name, handle], ...], strict)
Napi::Value ModelHandle::loadStateDict(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const auto& model = live();
    auto lock = lockIdle(*model);
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (auto& [name, tensor] : TensorHandle::unwrapNamed(argumentAt(info, 0), "stateDict")) {
      // With tied embeddings lm_head.weight is the embedding itself: a checkpoint may still list it.
      if (model->config().tieWordEmbeddings && name == "lm_head.weight") continue;
      tensors.emplace_back(std::move(name), std::move(tensor));
    }
    model->parameters().load(tensors, toBool(argumentAt(info, 1), "strict"));
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
    Napi::Env env = info.Env();
    Napi::Array result = Napi::Array::New(env);
    uint32_t next = 0;
    for (size_t layer = 0; layer < model->layers().size(); ++layer) {
      const models::MoeBlock* moe = model->layers()[layer].moe();
      if (moe == nullptr) continue;
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, static_cast<double>(layer));
      pair.Set(1u, TensorHandle::wrap(env, moe->router().correctionBias().clone()));
      result.Set(next++, pair);
    }
    return result;
  });
}

// ModelHandle.parameterCounts(config, seqLen?) → {total, totalExcludingEmbeddings, activated,
// activatedExcludingEmbeddings, trainingFlopsPerToken (with seqLen)}: from the model built on the meta device.
Napi::Value ModelHandle::parameterCounts(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const models::ModelConfig config = models::modelConfigFromJson(toJson(argumentAt(info, 0), "config"));
    const train::ParameterCounts counts = train::countParameters(config);
    Napi::Object result = Napi::Object::New(info.Env());
    result.Set("total", static_cast<double>(counts.total));
    result.Set("totalExcludingEmbeddings", static_cast<double>(counts.totalExcludingEmbeddings));
    result.Set("activated", static_cast<double>(counts.activated));
    result.Set("activatedExcludingEmbeddings", static_cast<double>(counts.activatedExcludingEmbeddings));
    if (!argumentAt(info, 1).IsUndefined()) {
      result.Set("trainingFlopsPerToken", train::trainingFlopsPerToken(config, toInt64(argumentAt(info, 1), "seqLen")));
    }
    return result;
  });
}

Napi::Value ModelHandle::dispose(const Napi::CallbackInfo& info) {
  // Jobs in flight keep their own shared_ptr; the memory goes when the last of them finishes.
  model_.reset();
  return info.Env().Undefined();
}

}  // namespace moonlight::napi
