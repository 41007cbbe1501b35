// Generation bindings (src/infer/ is their TypeScript side): convert the arguments, run infer::generate as one
// job off the JS thread, and hand each step's tokens back through a thread-safe function while it runs.
#include <memory>

#include "core/errors.h"
#include "infer/generator.h"
#include "napi/bindings.h"
#include "napi/convert.h"
#include "napi/error_bridge.h"
#include "napi/model_handle.h"
#include "napi/promise_worker.h"
#include "napi/tensor_handle.h"

namespace moonlight::napi {

namespace {

infer::GenerateOptions readOptions(const Napi::Value& value) {
  infer::GenerateOptions options;
  if (!value.IsObject()) fail(ErrorKind::Argument, "options must be an object");
  Napi::Object object = value.As<Napi::Object>();
  auto present = [&](const char* key) {
    Napi::Value field = object.Get(key);
    return !field.IsUndefined() && !field.IsNull();
  };
  if (present("maxNewTokens")) options.maxNewTokens = toInt64(object.Get("maxNewTokens"), "options.maxNewTokens");
  if (present("temperature")) options.sampling.temperature = toDouble(object.Get("temperature"), "options.temperature");
  if (present("topK")) options.sampling.topK = toInt64(object.Get("topK"), "options.topK");
  if (present("topP")) options.sampling.topP = toDouble(object.Get("topP"), "options.topP");
  if (present("seed")) options.seed = static_cast<uint64_t>(toInt64(object.Get("seed"), "options.seed"));
  if (present("stopTokenIds")) options.stopTokenIds = toInt64List(object.Get("stopTokenIds"), "options.stopTokenIds");
  if (present("returnLogits")) options.returnLogits = toBool(object.Get("returnLogits"), "options.returnLogits");
  if (present("threads")) options.threads = toInt64(object.Get("threads"), "options.threads");
  return options;
}

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
    ControlPointer control = unwrapControl(argumentAt(info, 0));
    const int64_t sequence = toInt64(argumentAt(info, 1), "sequence");
    if (sequence < 0) fail(ErrorKind::Argument, "sequence must be ≥ 0");
    control->stopSequence(sequence);
    return info.Env().Undefined();
  });
}

struct StepTokens {
  std::vector<int64_t> tokens;
  std::vector<bool> emitted;
};

Napi::Value resultToJs(Napi::Env env, infer::GenerateResult& result) {
  Napi::Object object = Napi::Object::New(env);
  Napi::Array tokens = Napi::Array::New(env, result.tokens.size());
  Napi::Array reasons = Napi::Array::New(env, result.tokens.size());
  for (uint32_t b = 0; b < result.tokens.size(); ++b) {
    Napi::Array row = Napi::Array::New(env, result.tokens[b].size());
    for (uint32_t i = 0; i < result.tokens[b].size(); ++i) row.Set(i, static_cast<double>(result.tokens[b][i]));
    tokens.Set(b, row);
    reasons.Set(b, result.finishReasons[b]);
  }
  object.Set("tokens", tokens);
  object.Set("finishReasons", reasons);
  object.Set("stepLogits", result.stepLogits.defined() ? TensorHandle::wrap(env, result.stepLogits) : env.Null());
  object.Set("cacheBytes", static_cast<double>(result.cacheBytes));
  object.Set("cacheCapacity", static_cast<double>(result.cacheCapacity));
  object.Set("prefillSeconds", result.prefillSeconds);
  object.Set("decodeSeconds", result.decodeSeconds);
  object.Set("threads", static_cast<double>(result.threads));
  return object;
}

// generate(model, inputIds, attentionMask | null, options, onTokens | null, control | null) → Promise<result>.
// onTokens(tokens: number[], emitted: boolean[]) is called once per step, on the JS thread.
Napi::Value generate(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::shared_ptr<models::CausalLM> model = ModelHandle::unwrap(argumentAt(info, 0), "model");
    at::Tensor inputIds = TensorHandle::unwrap(argumentAt(info, 1), "inputIds");
    Napi::Value maskValue = argumentAt(info, 2);
    at::Tensor mask = maskValue.IsNull() || maskValue.IsUndefined() ? at::Tensor() : TensorHandle::unwrap(maskValue, "attentionMask");
    infer::GenerateOptions options = readOptions(argumentAt(info, 3));
    Napi::Value callback = argumentAt(info, 4);
    std::shared_ptr<Napi::ThreadSafeFunction> stream;
    if (callback.IsFunction()) {
      stream = std::make_shared<Napi::ThreadSafeFunction>(
          Napi::ThreadSafeFunction::New(info.Env(), callback.As<Napi::Function>(), "moonlight:generateTokens", 0, 1));
    }
    Napi::Value controlValue = argumentAt(info, 5);
    ControlPointer control = controlValue.IsNull() || controlValue.IsUndefined() ? nullptr : unwrapControl(controlValue);
    return PromiseWorker<infer::GenerateResult>::start(
        info.Env(), "moonlight:generate",
        [model, inputIds, mask, options, stream, control]() {
          // The stream is released however the job ends, so the event loop is never kept alive by it.
          std::unique_ptr<Napi::ThreadSafeFunction, void (*)(Napi::ThreadSafeFunction*)> release(
              stream.get(), [](Napi::ThreadSafeFunction* function) {
                if (function != nullptr) function->Release();
              });
          infer::TokenCallback onTokens;
          if (stream) {
            onTokens = [stream](const std::vector<int64_t>& tokens, const std::vector<bool>& emitted) {
              auto* step = new StepTokens{tokens, emitted};
              stream->BlockingCall(step, [](Napi::Env env, Napi::Function function, StepTokens* data) {
                std::unique_ptr<StepTokens> owned(data);
                Napi::Array ids = Napi::Array::New(env, owned->tokens.size());
                Napi::Array flags = Napi::Array::New(env, owned->tokens.size());
                for (uint32_t b = 0; b < owned->tokens.size(); ++b) {
                  ids.Set(b, static_cast<double>(owned->tokens[b]));
                  flags.Set(b, static_cast<bool>(owned->emitted[b]));
                }
                function.Call({ids, flags});
              });
            };
          }
          std::lock_guard<std::mutex> lock(model->mutex());
          return infer::generate(*model, inputIds, mask, options, onTokens, control.get());
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
