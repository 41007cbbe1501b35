// Generation bindings (src/infer/ is their TypeScript side): unwrap the arguments, run infer::generate as one
// job off the JS thread, and hand each step's tokens back through a thread-safe function while it runs.
#include <memory>

#include "core/errors.h"
#include "infer/generate_json.h"
#include "napi/bindings.h"
#include "napi/convert.h"
#include "napi/error_bridge.h"
#include "napi/json_value.h"
#include "napi/model_handle.h"
#include "napi/promise_worker.h"
#include "napi/tensor_handle.h"

namespace moonlight::napi {

namespace {

using ControlPointer = std::shared_ptr<infer::GenerationControl>;

// A control is a JS External owning a shared_ptr: the running job holds its own copy, so JS dropping the
// External mid-generation cannot free what the worker thread reads.
ControlPointer unwrapControl(const Napi::Value& value) {
  if (!value.IsExternal()) fail(ErrorKind::Argument, "control must come from createGenerationControl()");
  return *value.As<Napi::External<ControlPointer>>().Data();
}

Napi::Value createGenerationControl(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    return Napi::External<ControlPointer>::New(info.Env(), new ControlPointer(std::make_shared<infer::GenerationControl>()),
                                               [](Napi::Env, ControlPointer* pointer) { delete pointer; });
  });
}

// generationControlCancel(control): the running generation ends after its current step.
Napi::Value generationControlCancel(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    unwrapControl(argumentAt(info, 0))->cancel();
    return info.Env().Undefined();
  });
}

// generationControlStop(control, sequence): that sequence ends after the current step, as on a stop token.
Napi::Value generationControlStop(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    unwrapControl(argumentAt(info, 0))->stopSequence(toInt64(argumentAt(info, 1), "sequence"));
    return info.Env().Undefined();
  });
}

struct StepTokens {
  std::vector<int64_t> tokens;
  std::vector<bool> emitted;
};

Napi::Value resultToJs(Napi::Env env, infer::GenerateResult& result) {
  Napi::Object object = fromJson(env, infer::generateResultToJson(result)).As<Napi::Object>();
  if (result.stepLogits.defined()) object.Set("stepLogits", TensorHandle::wrap(env, result.stepLogits));
  return object;
}

// onTokens(tokens: number[], emitted: boolean[]) on the JS thread, for a step's tokens made on the worker.
infer::TokenCallback streamTo(std::shared_ptr<Napi::ThreadSafeFunction> stream) {
  if (!stream) return {};
  return [stream](const std::vector<int64_t>& tokens, const std::vector<bool>& emitted) {
    stream->BlockingCall(new StepTokens{tokens, emitted}, [](Napi::Env env, Napi::Function function, StepTokens* data) {
      std::unique_ptr<StepTokens> step(data);
      function.Call({fromJson(env, step->tokens), fromJson(env, step->emitted)});
    });
  };
}

// generate(model, inputIds, attentionMask | null, options, onTokens | null, control | null) → Promise<result>.
Napi::Value generate(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<models::CausalLM> model = ModelHandle::unwrap(argumentAt(info, 0), "model");
    at::Tensor inputIds = TensorHandle::unwrap(argumentAt(info, 1), "inputIds");
    Napi::Value maskValue = argumentAt(info, 2);
    at::Tensor mask = maskValue.IsNull() || maskValue.IsUndefined() ? at::Tensor() : TensorHandle::unwrap(maskValue, "attentionMask");
    infer::GenerateOptions options = infer::generateOptionsFromJson(toJson(argumentAt(info, 3), "options"));
    Napi::Value callback = argumentAt(info, 4);
    std::shared_ptr<Napi::ThreadSafeFunction> stream;
    if (callback.IsFunction()) {
      stream = std::make_shared<Napi::ThreadSafeFunction>(
          Napi::ThreadSafeFunction::New(info.Env(), callback.As<Napi::Function>(), "moonlight:generateTokens", 0, 1));
    }
    Napi::Value controlValue = argumentAt(info, 5);
    ControlPointer control = controlValue.IsNull() || controlValue.IsUndefined() ? nullptr : unwrapControl(controlValue);
    return startPromise<infer::GenerateResult>(
        info.Env(), "moonlight:generate",
        [model, inputIds, mask, options, stream, control]() {
          // The stream is released however the job ends, so the event loop is never kept alive by it.
          std::unique_ptr<Napi::ThreadSafeFunction, void (*)(Napi::ThreadSafeFunction*)> release(
              stream.get(), [](Napi::ThreadSafeFunction* function) {
                if (function != nullptr) function->Release();
              });
          std::lock_guard<std::mutex> lock(model->mutex());
          return infer::generate(*model, inputIds, mask, options, streamTo(stream), control.get());
        },
        resultToJs);
  });
}

}  // namespace

void registerGenerate(Napi::Env env, Napi::Object exports) {
  exports.Set("generate", Napi::Function::New<generate>(env, "generate"));
  exports.Set("createGenerationControl", Napi::Function::New<createGenerationControl>(env, "createGenerationControl"));
  exports.Set("generationControlCancel", Napi::Function::New<generationControlCancel>(env, "generationControlCancel"));
  exports.Set("generationControlStop", Napi::Function::New<generationControlStop>(env, "generationControlStop"));
}

}  // namespace moonlight::napi
