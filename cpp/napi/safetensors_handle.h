// JS handle on an open (memory-mapped) safetensors file: lazy access to its tensors by name.
#pragma once

#include <memory>

#include <napi.h>

#include "io/safetensors_reader.h"

namespace moonlight::napi {

class SafetensorsHandle : public Napi::ObjectWrap<SafetensorsHandle> {
 public:
  static Napi::Function defineClass(Napi::Env env);
  static Napi::Object wrap(Napi::Env env, std::shared_ptr<io::SafetensorsFile> file);
  explicit SafetensorsHandle(const Napi::CallbackInfo& info);

 private:
  const io::SafetensorsFile& live() const;
  Napi::Value keys(const Napi::CallbackInfo& info);
  Napi::Value header(const Napi::CallbackInfo& info);
  Napi::Value metadata(const Napi::CallbackInfo& info);
  Napi::Value get(const Napi::CallbackInfo& info);
  Napi::Value close(const Napi::CallbackInfo& info);

  std::shared_ptr<io::SafetensorsFile> file_;
};

// Header of one tensor as JS sees it: {dtype: 'BF16', shape: [..], dataOffsets: [begin, end]}.
Napi::Object entryToJs(Napi::Env env, const io::SafetensorsEntry& entry);

}  // namespace moonlight::napi
