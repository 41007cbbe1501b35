// Tensor ops that can take long (big matmuls, big random tensors) in Promise form, computed off the JS thread.
#include <ATen/ATen.h>

#include "napi/bindings.h"
#include "napi/convert.h"
#include "napi/promise_worker.h"
#include "napi/tensor_handle.h"

namespace moonlight::napi {

namespace {

Napi::Value wrapTensor(Napi::Env env, at::Tensor& tensor) { return TensorHandle::wrap(env, std::move(tensor)); }

Napi::Value matmulAsync(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    // Copies of the tensors (shared storage) keep the inputs alive even if JS disposes them meanwhile.
    at::Tensor input = TensorHandle::unwrap(argumentAt(info, 0), "input");
    at::Tensor other = TensorHandle::unwrap(argumentAt(info, 1), "other");
    return PromiseWorker<at::Tensor>::start(
        info.Env(), "moonlight:matmul", [input, other]() { return at::matmul(input, other); }, wrapTensor);
  });
}

Napi::Value randnAsync(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::vector<int64_t> shape = toInt64List(argumentAt(info, 0), "shape");
    checkShape(shape, "shape");
    TensorSpec spec = toTensorSpec(argumentAt(info, 1));
    return PromiseWorker<at::Tensor>::start(
        info.Env(), "moonlight:randn",
        [shape, spec]() { return applyRequiresGrad(at::randn(shape, spec.options()), spec); }, wrapTensor);
  });
}

}  // namespace

void registerAsyncTensorWork(Napi::Env env, Napi::Object exports) {
  exports.Set("matmulAsync", Napi::Function::New<matmulAsync>(env, "matmulAsync"));
  exports.Set("randnAsync", Napi::Function::New<randnAsync>(env, "randnAsync"));
}

}  // namespace moonlight::napi
