// Weight analysis: SVD entropy of a tensor's matrices (off the JS thread: SVDs of big matrices take long)
// and the matrix type of a parameter name (the grouping the step diagnostics use too).
#include "analysis/matrix_type.h"
#include "analysis/svd_entropy.h"
#include "napi/bindings.h"
#include "napi/convert.h"
#include "napi/error_bridge.h"
#include "napi/promise_worker.h"
#include "napi/tensor_handle.h"

namespace moonlight::napi {

namespace {

Napi::Value svdEntropy(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    at::Tensor weights = TensorHandle::unwrap(argumentAt(info, 0), "weights");
    return PromiseWorker<std::vector<double>>::start(
        info.Env(), "moonlight:svdEntropy", [weights]() { return analysis::svdEntropy(weights); },
        [](Napi::Env env, std::vector<double>& values) -> Napi::Value {
          Napi::Array array = Napi::Array::New(env, values.size());
          for (size_t i = 0; i < values.size(); ++i) array.Set(static_cast<uint32_t>(i), values[i]);
          return array;
        });
  });
}

Napi::Value matrixType(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    return Napi::String::New(info.Env(), analysis::matrixType(toString(argumentAt(info, 0), "name")));
  });
}

}  // namespace

void registerAnalysis(Napi::Env env, Napi::Object exports) {
  exports.Set("svdEntropy", Napi::Function::New<svdEntropy>(env, "svdEntropy"));
  exports.Set("matrixType", Napi::Function::New<matrixType>(env, "matrixType"));
}

}  // namespace moonlight::napi
