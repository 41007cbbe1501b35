// Checkpoint files in the JS API (src/io/): safetensors files (lazy through a SafetensorsHandle, eager),
// sharded checkpoints and the atomic publication of a checkpoint folder. Every load and save runs off the
// JS thread; the arguments are read and checked before, on it.
#include "core/api_tables.h"
#include "core/errors.h"
#include "io/checkpoint_directory.h"
#include "io/safetensors_reader.h"
#include "io/safetensors_writer.h"
#include "io/sharded_safetensors.h"
#include "tensor/tensor_spec.h"

namespace moonlight::io {

using namespace api;  // the tables' vocabulary: Arguments, Result, Job, Kind, …

namespace {

// {key: string, ...}: the __metadata__ of a safetensors file.
struct MetadataObject {
  Metadata entries;
};

void readValue(const Json& value, const std::string& name, MetadataObject& out) {
  if (value.is_null()) return;
  if (!value.is_object()) json_options::expected(name, value, "an object of strings");
  for (const auto& [key, text] : value.items()) {
    out.entries.emplace_back(key, json_options::readArgument<std::string>(text, name + "." + key));
  }
}

// shardedSave's options: {maxShardBytes?, metadata?, prefix?}.
struct ShardOptions {
  int64_t maxShardBytes = static_cast<int64_t>(kDefaultMaxShardBytes);
  MetadataObject metadata;
  std::string prefix = "model";
};

template <typename Visit>
void forEachField(ShardOptions& o, Visit&& field) {
  field("maxShardBytes", o.maxShardBytes,
        json_options::Range{1, json_options::kInfinity, true, false, "a positive number of bytes"});
  field("metadata", o.metadata);
  field("prefix", o.prefix);
}

std::vector<NamedTensor> namedTensorsOf(const Arguments& a, size_t i) {
  std::vector<NamedTensor> tensors;
  for (const auto& [name, tensor] : a.namedTensors(i)) tensors.push_back({name, tensor});
  return tensors;
}

Json entryToJson(const SafetensorsEntry& entry) {
  return {{"dtype", entry.dtype.name}, {"shape", entry.shape}, {"dataOffsets", {entry.begin, entry.end}}};
}

// Every tensor of `names` from `source`, converted as `target` asks.
template <typename Source>
NamedTensors loadAll(const Source& source, const std::vector<std::string>& names, const ConversionTarget& target) {
  NamedTensors tensors;
  for (const std::string& name : names) tensors.emplace_back(name, convertLoaded(source.tensor(name), target.dtype, target.device));
  return tensors;
}

// safetensorsLoad(path, {dtype?, device?}) → [[name, Tensor], ...]
Job loadFile(const Arguments& a) {
  return [path = a.get<std::string>(0), target = a.options<ConversionTarget>(1)]() -> Result {
    std::shared_ptr<SafetensorsFile> file = SafetensorsFile::open(path);
    std::vector<std::string> names;
    for (const SafetensorsEntry& entry : file->header().entries) names.push_back(entry.name);
    return loadAll(*file, names, target);
  };
}

// shardedLoad(indexPath, {dtype?, device?}) → [[name, Tensor], ...]
Job loadSharded(const Arguments& a) {
  return [path = a.get<std::string>(0), target = a.options<ConversionTarget>(1)]() -> Result {
    const ShardedSafetensors sharded = ShardedSafetensors::open(path);
    return loadAll(sharded, sharded.names(), target);
  };
}

// safetensorsSave(path, [[name, Tensor], ...], metadata?)
Job saveFile(const Arguments& a) {
  return [path = a.get<std::string>(0), tensors = namedTensorsOf(a, 1), metadata = a.get<MetadataObject>(2)]() -> Result {
    writeSafetensors(path, tensors, metadata.entries);
    return {};
  };
}

// shardedSave(directory, [[name, Tensor], ...], {maxShardBytes?, metadata?, prefix?}) → the files written
Job saveSharded(const Arguments& a) {
  return [directory = a.get<std::string>(0), tensors = namedTensorsOf(a, 1), options = a.options<ShardOptions>(2)]() -> Result {
    return Json(writeShardedSafetensors(directory, tensors, static_cast<uint64_t>(options.maxShardBytes),
                                        options.metadata.entries, options.prefix));
  };
}

// shardedHeader(indexPath) → [{dtype, shape, dataOffsets, name, shard}]: the validated layout of a sharded
// checkpoint, without reading tensor data.
Job shardedHeader(const Arguments& a) {
  return [path = a.get<std::string>(0)]() -> Result {
    const ShardedSafetensors sharded = ShardedSafetensors::open(path);
    Json entries = Json::array();
    for (const std::string& name : sharded.names()) {
      Json entry = entryToJson(sharded.entry(name));
      entry["name"] = name;
      entry["shard"] = sharded.shardOf(name);
      entries.push_back(std::move(entry));
    }
    return entries;
  };
}

// commitCheckpointDirectory(staging, target)
Job commitDirectory(const Arguments& a) {
  return [staging = a.get<std::string>(0), target = a.get<std::string>(1)]() -> Result {
    commitCheckpointDirectory(staging, target);
    return {};
  };
}

Result header(SafetensorsFile& file, const Arguments&) {
  Json entries = Json::object();
  for (const SafetensorsEntry& entry : file.header().entries) entries[entry.name] = entryToJson(entry);
  return entries;
}

Result metadata(SafetensorsFile& file, const Arguments&) {
  Json entries = Json::object();
  for (const auto& [key, value] : file.header().metadata) entries[key] = value;
  return entries;
}

}  // namespace

const FunctionTable& checkpointFunctions() {
  const Parameter path{"path", Kind::Data}, indexPath{"indexPath", Kind::Data}, options{"options", Kind::Data};
  const Parameter tensors{"tensors", Kind::NamedTensors};
  static const FunctionTable table = {
      {"safetensorsLoad", {path, options}, nullptr, loadFile},
      {"safetensorsSave", {path, tensors, {"metadata", Kind::Data}}, nullptr, saveFile},
      {"shardedLoad", {indexPath, options}, nullptr, loadSharded},
      {"shardedSave", {{"directory", Kind::Data}, tensors, options}, nullptr, saveSharded},
      {"shardedHeader", {indexPath}, nullptr, shardedHeader},
      {"commitCheckpointDirectory", {{"staging", Kind::Data}, {"target", Kind::Data}}, nullptr, commitDirectory},
  };
  return table;
}

const HandleClass<SafetensorsFile>& safetensorsFileClass() {
  static const HandleClass<SafetensorsFile> spec = {
      "SafetensorsHandle",
      "close",  // tensors already handed out keep the mapping alive on their own
      "the safetensors file was closed",
      "an open safetensors file",
      {},
      nullptr,
      {
          {"keys", {}, [](SafetensorsFile& file, const Arguments&) -> Result {
             Json names = Json::array();
             for (const SafetensorsEntry& entry : file.header().entries) names.push_back(entry.name);
             return names;
           }},
          {"header", {}, header},
          {"metadata", {}, metadata},
          // get(name, {dtype?, device?})
          {"get", {{"name", Kind::Data}, {"options", Kind::Data}}, [](SafetensorsFile& file, const Arguments& a) -> Result {
             const ConversionTarget target = a.options<ConversionTarget>(1);
             return convertLoaded(file.tensor(a.get<std::string>(0)), target.dtype, target.device);
           }},
      },
  };
  return spec;
}

}  // namespace moonlight::io
