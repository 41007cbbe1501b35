// Runs a native job off the JS thread and settles a Promise with its result. Exceptions thrown by the job
// reject the Promise with the same typed JS error a synchronous call would throw.
#pragma once

#include <utility>

#include <napi.h>

#include "core/background_priority.h"
#include "napi/error_bridge.h"

namespace moonlight::napi {

// Result: what the job computes (plain C++, no JS values: it is made on a worker thread).
// Job: callable returning a Result; ToJs: callable (Napi::Env, Result&) → Napi::Value that turns the result
// into a JS value on the JS thread once the job is done.
template <typename Result, typename Job, typename ToJs>
class PromiseWorker : public Napi::AsyncWorker {
 public:
  // Queues the job and returns the Promise it settles.
  static Napi::Promise start(Napi::Env env, const char* name, Job job, ToJs toJs) {
    auto* worker = new PromiseWorker(env, name, std::move(job), std::move(toJs));
    Napi::Promise promise = worker->deferred_.Promise();
    worker->Queue();  // the worker deletes itself after OnOK/OnError
    return promise;
  }

 protected:
  void Execute() override {
    lowerThisThreadsPriorityOnce();
    try {
      result_ = job_();
    } catch (...) {
      error_ = describeCurrentException();
      SetError(error_.message);
    }
  }

  void OnOK() override {
    Napi::HandleScope scope(Env());
    try {
      deferred_.Resolve(toJs_(Env(), result_));
    } catch (const Napi::Error& error) {
      deferred_.Reject(error.Value());
    } catch (...) {
      deferred_.Reject(makeError(Env(), describeCurrentException()).Value());
    }
  }

  void OnError(const Napi::Error&) override {
    Napi::HandleScope scope(Env());
    deferred_.Reject(makeError(Env(), error_).Value());
  }

 private:
  PromiseWorker(Napi::Env env, const char* name, Job job, ToJs toJs)
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        job_(std::move(job)),
        toJs_(std::move(toJs)) {}

  Napi::Promise::Deferred deferred_;
  Job job_;
  ToJs toJs_;
  Result result_{};
  ErrorDescription error_;
};

// PromiseWorker<Result, …>::start with the callables' types deduced: startPromise<Result>(env, name, job, toJs).
template <typename Result, typename Job, typename ToJs>
Napi::Promise startPromise(Napi::Env env, const char* name, Job job, ToJs toJs) {
  return PromiseWorker<Result, Job, ToJs>::start(env, name, std::move(job), std::move(toJs));
}

}  // namespace moonlight::napi
