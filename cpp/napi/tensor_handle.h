// The JS-visible owner of one at::Tensor. JS holds it inside src/tensor/tensor.ts's Tensor; dispose()
// frees the tensor at once, and the GC finalizer frees it if JS forgot to. Its other methods are the core's
// (tensor::tensorMethods in core/api_tables.h).
#pragma once

#include <napi.h>

#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

namespace moonlight::napi {

class TensorHandle : public Napi::ObjectWrap<TensorHandle> {
 public:
  static Napi::Function defineClass(Napi::Env env);
  // A new JS handle owning `tensor` (on the JS thread only).
  static Napi::Object wrap(Napi::Env env, at::Tensor tensor);
  // The tensor of a live handle; ArgumentError if `value` is no handle, DisposedError if it was disposed.
  static const at::Tensor& unwrap(const Napi::Value& value, const char* argumentName);
  // [[name, Tensor], ...] from JS, in order; ArgumentErrors name `argumentName` and the entry's index.
  static std::vector<std::pair<std::string, at::Tensor>> unwrapNamed(const Napi::Value& value, const std::string& argumentName);
  // [[key, Tensor | null], ...] for JS, in order; a key is a name or a number.
  template <typename Key>
  static Napi::Array wrapNamed(Napi::Env env, const std::vector<std::pair<Key, at::Tensor>>& tensors) {
    Napi::Array pairs = Napi::Array::New(env, tensors.size());
    for (uint32_t i = 0; i < tensors.size(); ++i) {
      const auto& [key, tensor] = tensors[i];
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, Napi::Value::From(env, key));
      pair.Set(1u, tensor.defined() ? Napi::Value(wrap(env, tensor)) : env.Null());
      pairs.Set(i, pair);
    }
    return pairs;
  }

  explicit TensorHandle(const Napi::CallbackInfo& info);
  ~TensorHandle() override;

 private:
  void adopt(at::Tensor tensor);
  void release();
  const at::Tensor& live() const;

  Napi::Value dispose(const Napi::CallbackInfo& info);
  Napi::Value isDisposed(const Napi::CallbackInfo& info);
  Napi::Value hostBytes(const Napi::CallbackInfo& info);
  Napi::Value toHost(const Napi::CallbackInfo& info);
  // A method of the core's table: info.Data() is its entry.
  Napi::Value callMethod(const Napi::CallbackInfo& info);

  at::Tensor tensor_;
  napi_env env_ = nullptr;
  int64_t reportedHostBytes_ = 0;  // what we told V8 this handle holds, returned when it is released
};

}  // namespace moonlight::napi
