// Bindings of cpp/dist: the process group (init / destroy / collectives for tests and scripts) and the
// distributed optimizer steps. Rendezvous and collectives block, so they run off the JS thread.
#include "napi/dist_bindings.h"

#include <chrono>
#include <string>

#include "core/errors.h"
#include "dist/collective_copies.h"
#include "dist/distributed_strategy.h"
#include "dist/process_group.h"
#include "napi/bindings.h"
#include "napi/convert.h"
#include "napi/error_bridge.h"
#include "napi/promise_worker.h"
#include "napi/tensor_handle.h"

namespace moonlight::napi {

namespace {

Napi::Value undefinedToJs(Napi::Env env, bool&) { return env.Undefined(); }
Napi::Value tensorToJs(Napi::Env env, at::Tensor& tensor) { return TensorHandle::wrap(env, tensor); }

// distInit({rank, worldSize, masterAddr, masterPort, timeoutMs}) → Promise<void>
Napi::Value distInit(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    if (!argumentAt(info, 0).IsObject()) fail(ErrorKind::Argument, "options must be an object");
    Napi::Object object = argumentAt(info, 0).As<Napi::Object>();
    dist::ProcessGroupOptions options;
    options.rank = static_cast<int>(toInt64(object.Get("rank"), "rank"));
    options.worldSize = static_cast<int>(toInt64(object.Get("worldSize"), "worldSize"));
    options.masterAddr = toString(object.Get("masterAddr"), "masterAddr");
    options.masterPort = static_cast<int>(toInt64(object.Get("masterPort"), "masterPort"));
    options.timeout = std::chrono::milliseconds(toInt64(object.Get("timeoutMs"), "timeoutMs"));
    if (object.Has("backend") && !object.Get("backend").IsUndefined()) {
      options.backend = toString(object.Get("backend"), "backend");
    }
    return PromiseWorker<bool>::start(
        info.Env(), "moonlight:distInit",
        [options]() {
          dist::initProcessGroup(options);
          return true;
        },
        undefinedToJs);
  });
}

Napi::Value distDestroy(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    dist::destroyProcessGroup();
    return info.Env().Undefined();
  });
}

// distState() → {initialized, rank, worldSize, bytesSent}
Napi::Value distState(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    Napi::Object state = Napi::Object::New(info.Env());
    const bool initialized = dist::processGroupInitialized();
    state.Set("initialized", initialized);
    if (initialized) {
      auto group = dist::currentProcessGroup();
      state.Set("rank", group->rank());
      state.Set("worldSize", group->worldSize());
      state.Set("bytesSent", static_cast<double>(group->bytesSent()));
      state.Set("backend", group->backendNames());
    }
    state.Set("ncclCompiled", dist::ncclCompiled());
    state.Set("glooCompiled", dist::glooCompiled());
    return state;
  });
}

// distCollective(kind, tensor, op|root) → Promise<TensorHandle>: a new tensor with the result; the input
// is left as it was (dist/collective_copies.h).
Napi::Value distCollective(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    dist::CollectiveRequest request;
    request.kind = dist::parseCollectiveKind(toString(argumentAt(info, 0), "kind"));
    at::Tensor input = TensorHandle::unwrap(argumentAt(info, 1), "tensor");
    Napi::Value third = argumentAt(info, 2);
    if (request.kind == dist::CollectiveKind::Broadcast) {
      request.root = static_cast<int>(toInt64(third, "root"));
    } else if (!third.IsUndefined()) {
      request.op = dist::parseReduceOp(toString(third, "op"));
    }
    auto job = dist::collectiveOnCopy(dist::currentProcessGroup(), input, request);
    return PromiseWorker<at::Tensor>::start(info.Env(), "moonlight:distCollective", std::move(job), tensorToJs);
  });
}

Napi::Value distBarrier(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    auto group = dist::currentProcessGroup();
    return PromiseWorker<bool>::start(
        info.Env(), "moonlight:distBarrier",
        [group]() {
          group->barrier();
          return true;
        },
        undefinedToJs);
  });
}

}  // namespace

optim::DistributedStepFactory distributedStepFactory(const Napi::Value& value) {
  if (value.IsUndefined() || value.IsNull()) return nullptr;
  if (!value.IsObject()) fail(ErrorKind::Config, "options.distributed must be an object {mode, bucketBytes?}");
  Napi::Object object = value.As<Napi::Object>();
  dist::DistributedStrategyOptions options;
  options.mode = toString(object.Get("mode"), "options.distributed.mode");
  Napi::Value bucket = object.Get("bucketBytes");
  if (!bucket.IsUndefined()) options.bucketBytes = toInt64(bucket, "options.distributed.bucketBytes");
  return dist::distributedStepFactory(options);
}

void registerDist(Napi::Env env, Napi::Object exports) {
  exports.Set("distInit", Napi::Function::New<distInit>(env, "distInit"));
  exports.Set("distDestroy", Napi::Function::New<distDestroy>(env, "distDestroy"));
  exports.Set("distState", Napi::Function::New<distState>(env, "distState"));
  exports.Set("distCollective", Napi::Function::New<distCollective>(env, "distCollective"));
  exports.Set("distBarrier", Napi::Function::New<distBarrier>(env, "distBarrier"));
}

}  // namespace moonlight::napi
