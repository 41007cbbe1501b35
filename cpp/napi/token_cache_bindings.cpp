// Token cache bindings: a JS handle on a memory-mapped token cache (cpp/data/token_cache.h) whose gather
// builds a training batch off the JS thread, so the next batch is ready while the current step runs.
#include <cmath>
#include <memory>
#include <vector>

#include "core/errors.h"
#include "data/token_cache.h"
#include "napi/bindings.h"
#include "napi/convert.h"
#include "napi/error_bridge.h"
#include "napi/promise_worker.h"
#include "napi/tensor_handle.h"

namespace moonlight::napi {

namespace {

template <typename Element>
std::vector<int64_t> integersOf(const Napi::TypedArray& array, const char* argumentName) {
  const Element* values = reinterpret_cast<const Element*>(
      static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset());
  std::vector<int64_t> result(array.ElementLength());
  for (size_t i = 0; i < result.size(); ++i) {
    const double value = static_cast<double>(values[i]);
    if (!std::isfinite(value) || std::floor(value) != value || std::fabs(value) > 9007199254740991.0) {
      fail(ErrorKind::Argument, std::string(argumentName) + "[" + std::to_string(i) + "] must be a safe integer");
    }
    result[i] = static_cast<int64_t>(values[i]);
  }
  return result;
}

// Sequence starts as a plain array, or an Int32Array / Uint32Array / Float64Array / BigInt64Array (the
// sampler's index arrays are typed; converting them here, on the JS thread, copies them once).
std::vector<int64_t> toStarts(const Napi::Value& value, const char* argumentName) {
  if (value.IsTypedArray()) {
    Napi::TypedArray array = value.As<Napi::TypedArray>();
    switch (array.TypedArrayType()) {
      case napi_int32_array: return integersOf<int32_t>(array, argumentName);
      case napi_uint32_array: return integersOf<uint32_t>(array, argumentName);
      case napi_float64_array: return integersOf<double>(array, argumentName);
      case napi_bigint64_array: return integersOf<int64_t>(array, argumentName);
      default:
        fail(ErrorKind::Argument,
             std::string(argumentName) + " must be an array, Int32Array, Uint32Array, Float64Array or BigInt64Array");
    }
  }
  if (!value.IsArray()) fail(ErrorKind::Argument, std::string(argumentName) + " must be an array of integers");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<int64_t> result(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) {
    result[i] = toInt64(array.Get(i), (std::string(argumentName) + "[" + std::to_string(i) + "]").c_str());
  }
  return result;
}

class TokenCacheHandle : public Napi::ObjectWrap<TokenCacheHandle> {
 public:
  static Napi::Function defineClass(Napi::Env env) {
    return DefineClass(env, "TokenCacheHandle",
                       {
                           InstanceMethod<&TokenCacheHandle::numTokens>("numTokens"),
                           InstanceMethod<&TokenCacheHandle::bytesPerToken>("bytesPerToken"),
                           InstanceMethod<&TokenCacheHandle::gather>("gather"),
                           InstanceMethod<&TokenCacheHandle::gatherSync>("gatherSync"),
                           InstanceMethod<&TokenCacheHandle::close>("close"),
                       });
  }

  // new TokenCacheHandle(path, bytesPerToken): maps the file (cheap: pages are read on first use).
  explicit TokenCacheHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TokenCacheHandle>(info) {
    guard(info.Env(), [&]() {
      std::string path = toString(argumentAt(info, 0), "path");
      const int64_t bytes = toInt64(argumentAt(info, 1), "bytesPerToken");
      cache_ = data::TokenCache::open(path, static_cast<int>(bytes));
      return 0;
    });
  }

 private:
  const std::shared_ptr<data::TokenCache>& live() const {
    if (!cache_) fail(ErrorKind::Disposed, "the token cache was closed");
    return cache_;
  }

  Napi::Value numTokens(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value {
      return Napi::Number::New(info.Env(), static_cast<double>(live()->numTokens()));
    });
  }

  Napi::Value bytesPerToken(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value { return Napi::Number::New(info.Env(), live()->bytesPerToken()); });
  }

  // gather(starts, seqLen) → Promise<TensorHandle int64 [starts.length, seqLen]>.
  Napi::Value gather(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value {
      std::vector<int64_t> starts = toStarts(argumentAt(info, 0), "starts");
      const int64_t seqLen = toInt64(argumentAt(info, 1), "seqLen");
      // The job holds the cache: close() while a gather is pending keeps the mapping until it is done.
      std::shared_ptr<data::TokenCache> cache = live();
      return PromiseWorker<at::Tensor>::start(
          info.Env(), "moonlight:tokenCacheGather",
          [cache, starts = std::move(starts), seqLen]() { return cache->gather(starts, seqLen); },
          [](Napi::Env env, at::Tensor& batch) -> Napi::Value { return TensorHandle::wrap(env, std::move(batch)); });
    });
  }

  Napi::Value gatherSync(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value {
      std::vector<int64_t> starts = toStarts(argumentAt(info, 0), "starts");
      const int64_t seqLen = toInt64(argumentAt(info, 1), "seqLen");
      return TensorHandle::wrap(info.Env(), live()->gather(starts, seqLen));
    });
  }

  Napi::Value close(const Napi::CallbackInfo& info) {
    cache_.reset();
    return info.Env().Undefined();
  }

  std::shared_ptr<data::TokenCache> cache_;
};

}  // namespace

void registerData(Napi::Env env, Napi::Object exports) {
  exports.Set("TokenCacheHandle", TokenCacheHandle::defineClass(env));
}

}  // namespace moonlight::napi
