#include "napi/convert.h"

#include <cstring>

namespace moonlight::napi {

Napi::Value argumentAt(const Napi::CallbackInfo& info, size_t index) {
  return index < info.Length() ? info[index] : info.Env().Undefined();
}

Napi::ArrayBuffer arrayBufferOf(Napi::Env env, const at::Tensor& host) {
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, host.nbytes());
  if (host.nbytes() > 0) std::memcpy(buffer.Data(), host.data_ptr(), host.nbytes());
  return buffer;
}

}  // namespace moonlight::napi
