// Checkpoint I/O bindings: safetensors files (lazy and eager), sharded checkpoints. Every load and save
// runs off the JS thread.
#include <cstring>
#include <optional>

#include "core/device.h"
#include "core/dtype.h"
#include "core/errors.h"
#include "io/checkpoint_directory.h"
#include "io/safetensors_reader.h"
#include "io/safetensors_writer.h"
#include "io/sharded_safetensors.h"
#include "napi/bindings.h"
#include "napi/convert.h"
#include "napi/promise_worker.h"
#include "napi/safetensors_handle.h"
#include "napi/tensor_handle.h"

namespace moonlight::napi {

namespace {

using NamedTensors = std::vector<io::NamedTensor>;

// [[name, TensorHandle], ...] from JS, in order.
NamedTensors toNamedTensors(const Napi::Value& value) {
  NamedTensors result;
  for (auto& [name, tensor] : TensorHandle::unwrapNamed(value, "tensors")) result.push_back({std::move(name), std::move(tensor)});
  return result;
}

io::Metadata toMetadata(const Napi::Value& value) {
  io::Metadata metadata;
  if (value.IsUndefined() || value.IsNull()) return metadata;
  if (!value.IsObject()) fail(ErrorKind::Argument, "metadata must be an object of strings");
  Napi::Object object = value.As<Napi::Object>();
  Napi::Array keys = object.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
    metadata.emplace_back(key, toString(object.Get(key), ("metadata." + key).c_str()));
  }
  return metadata;
}

Napi::Value namedTensorsToJs(Napi::Env env, NamedTensors& tensors) {
  Napi::Array pairs = Napi::Array::New(env, tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, tensors[i].name);
    pair.Set(1u, TensorHandle::wrap(env, std::move(tensors[i].tensor)));
    pairs.Set(static_cast<uint32_t>(i), pair);
  }
  return pairs;
}

Napi::Value safetensorsOpen(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::string path = toString(argumentAt(info, 0), "path");
    return PromiseWorker<std::shared_ptr<io::SafetensorsFile>>::start(
        info.Env(), "moonlight:safetensorsOpen", [path]() { return io::SafetensorsFile::open(path); },
        [](Napi::Env env, std::shared_ptr<io::SafetensorsFile>& file) -> Napi::Value {
          return SafetensorsHandle::wrap(env, std::move(file));
        });
  });
}

Napi::Value safetensorsLoad(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::string path = toString(argumentAt(info, 0), "path");
    ConversionTarget options = toConversionTarget(argumentAt(info, 1));
    return PromiseWorker<NamedTensors>::start(
        info.Env(), "moonlight:safetensorsLoad",
        [path, options]() {
          auto file = io::SafetensorsFile::open(path);
          NamedTensors tensors;
          for (const auto& entry : file->header().entries) {
            tensors.push_back({entry.name, io::convertLoaded(file->tensor(entry.name), options.dtype, options.device)});
          }
          return tensors;
        },
        namedTensorsToJs);
  });
}

Napi::Value safetensorsSave(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::string path = toString(argumentAt(info, 0), "path");
    NamedTensors tensors = toNamedTensors(argumentAt(info, 1));
    io::Metadata metadata = toMetadata(argumentAt(info, 2));
    return PromiseWorker<bool>::start(
        info.Env(), "moonlight:safetensorsSave",
        [path, tensors, metadata]() {
          io::writeSafetensors(path, tensors, metadata);
          return true;
        },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
  });
}

Napi::Value shardedLoad(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::string indexPath = toString(argumentAt(info, 0), "indexPath");
    ConversionTarget options = toConversionTarget(argumentAt(info, 1));
    return PromiseWorker<NamedTensors>::start(
        info.Env(), "moonlight:shardedLoad",
        [indexPath, options]() {
          io::ShardedSafetensors sharded = io::ShardedSafetensors::open(indexPath);
          NamedTensors tensors;
          for (const std::string& name : sharded.names()) {
            tensors.push_back({name, io::convertLoaded(sharded.tensor(name), options.dtype, options.device)});
          }
          return tensors;
        },
        namedTensorsToJs);
  });
}

// shardedSave(directory, pairs, {maxShardBytes, metadata, prefix}) -> Promise<string[]> (files written)
Napi::Value shardedSave(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::string directory = toString(argumentAt(info, 0), "directory");
    NamedTensors tensors = toNamedTensors(argumentAt(info, 1));
    uint64_t maxShardBytes = io::kDefaultMaxShardBytes;
    io::Metadata metadata;
    std::string prefix = "model";
    Napi::Value optionsValue = argumentAt(info, 2);
    if (optionsValue.IsObject()) {
      Napi::Object options = optionsValue.As<Napi::Object>();
      if (!options.Get("maxShardBytes").IsUndefined()) {
        int64_t limit = toInt64(options.Get("maxShardBytes"), "options.maxShardBytes");
        if (limit <= 0) fail(ErrorKind::Argument, "options.maxShardBytes must be a positive number of bytes");
        maxShardBytes = static_cast<uint64_t>(limit);
      }
      metadata = toMetadata(options.Get("metadata"));
      if (!options.Get("prefix").IsUndefined()) prefix = toString(options.Get("prefix"), "options.prefix");
    }
    return PromiseWorker<std::vector<std::string>>::start(
        info.Env(), "moonlight:shardedSave",
        [directory, tensors, maxShardBytes, metadata, prefix]() {
          return io::writeShardedSafetensors(directory, tensors, maxShardBytes, metadata, prefix);
        },
        [](Napi::Env env, std::vector<std::string>& files) -> Napi::Value {
          Napi::Array result = Napi::Array::New(env, files.size());
          for (size_t i = 0; i < files.size(); ++i) result.Set(static_cast<uint32_t>(i), files[i]);
          return result;
        });
  });
}

// shardedHeader(indexPath) -> Promise<[{name, shard, dtype, shape, dataOffsets}]>: the validated layout of a
// sharded checkpoint, without reading tensor data.
Napi::Value shardedHeader(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::string indexPath = toString(argumentAt(info, 0), "indexPath");
    return PromiseWorker<std::shared_ptr<io::ShardedSafetensors>>::start(
        info.Env(), "moonlight:shardedHeader",
        [indexPath]() { return std::make_shared<io::ShardedSafetensors>(io::ShardedSafetensors::open(indexPath)); },
        [](Napi::Env env, std::shared_ptr<io::ShardedSafetensors>& sharded) -> Napi::Value {
          const auto& names = sharded->names();
          Napi::Array result = Napi::Array::New(env, names.size());
          for (size_t i = 0; i < names.size(); ++i) {
            Napi::Object entry = entryToJs(env, sharded->entry(names[i]));
            entry.Set("name", names[i]);
            entry.Set("shard", sharded->shardOf(names[i]));
            result.Set(static_cast<uint32_t>(i), entry);
          }
          return result;
        });
  });
}

// commitCheckpointDirectory(staging, target) -> Promise<void>
Napi::Value commitCheckpointDirectory(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    std::string staging = toString(argumentAt(info, 0), "staging");
    std::string target = toString(argumentAt(info, 1), "target");
    return PromiseWorker<bool>::start(
        info.Env(), "moonlight:commitCheckpoint",
        [staging, target]() {
          io::commitCheckpointDirectory(staging, target);
          return true;
        },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
  });
}

// Reads a tensor's raw bytes as stored (any dtype, including float8): for exact comparisons and tools.
Napi::Value rawBytes(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    at::Tensor host = TensorHandle::unwrap(argumentAt(info, 0), "tensor").detach().to(c10::DeviceType::CPU).contiguous();
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(info.Env(), host.nbytes());
    if (host.nbytes() > 0) std::memcpy(buffer.Data(), host.data_ptr(), host.nbytes());
    return Napi::Uint8Array::New(info.Env(), host.nbytes(), buffer, 0);
  });
}

}  // namespace

void registerIo(Napi::Env env, Napi::Object exports) {
  exports.Set("SafetensorsHandle", SafetensorsHandle::defineClass(env));
  exports.Set("safetensorsOpen", Napi::Function::New<safetensorsOpen>(env, "safetensorsOpen"));
  exports.Set("safetensorsLoad", Napi::Function::New<safetensorsLoad>(env, "safetensorsLoad"));
  exports.Set("safetensorsSave", Napi::Function::New<safetensorsSave>(env, "safetensorsSave"));
  exports.Set("shardedLoad", Napi::Function::New<shardedLoad>(env, "shardedLoad"));
  exports.Set("shardedSave", Napi::Function::New<shardedSave>(env, "shardedSave"));
  exports.Set("shardedHeader", Napi::Function::New<shardedHeader>(env, "shardedHeader"));
  exports.Set("commitCheckpointDirectory", Napi::Function::New<commitCheckpointDirectory>(env, "commitCheckpointDirectory"));
  exports.Set("rawBytes", Napi::Function::New<rawBytes>(env, "rawBytes"));
}

}  // namespace moonlight::napi
