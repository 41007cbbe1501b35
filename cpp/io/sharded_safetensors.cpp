#include "io/sharded_safetensors.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "core/errors.h"
#include "io/atomic_file.h"
#include "io/strict_json.h"

namespace moonlight::io {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void badIndex(const std::string& indexPath, const std::string& problem) {
  fail(ErrorKind::Checkpoint, indexPath + ": " + problem);
}

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorKind::Checkpoint, path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string shardName(const std::string& prefix, size_t index, size_t count) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "-%05zu-of-%05zu.safetensors", index, count);
  return prefix + buffer;
}

}  // namespace

ShardedSafetensors ShardedSafetensors::open(const std::string& indexPath) {
  nlohmann::ordered_json index = parseStrictJson(readText(indexPath), indexPath);
  if (!index.is_object()) badIndex(indexPath, "is not a JSON object");
  if (!index.contains("weight_map") || !index["weight_map"].is_object()) badIndex(indexPath, "has no weight_map object");
  if (index.contains("metadata") && !index["metadata"].is_object()) badIndex(indexPath, "metadata is not an object");

  ShardedSafetensors result;
  std::map<std::string, std::shared_ptr<SafetensorsFile>> shards;
  const fs::path folder = fs::path(indexPath).parent_path();
  for (const auto& [name, file] : index["weight_map"].items()) {
    if (!file.is_string()) badIndex(indexPath, "weight_map[\"" + name + "\"] is not a file name");
    const std::string shard = file.get<std::string>();
    if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..") {
      badIndex(indexPath, "weight_map[\"" + name + "\"] names \"" + shard + "\", which is not a file in the index's folder");
    }
    auto found = shards.find(shard);
    if (found == shards.end()) {
      const std::string shardPath = (folder / shard).string();
      if (!fs::exists(shardPath)) badIndex(indexPath, "names shard \"" + shard + "\", which does not exist");
      found = shards.emplace(shard, SafetensorsFile::open(shardPath)).first;
      result.shardPaths_.push_back(shardPath);
    }
    if (!found->second->contains(name)) badIndex(indexPath, "maps \"" + name + "\" to " + shard + ", which does not hold it");
    result.names_.push_back(name);
    result.shardByTensor_[name] = found->second;
  }
  // Every stored tensor must be listed exactly once: a tensor in two shards is ambiguous.
  for (const auto& [shard, file] : shards) {
    for (const SafetensorsEntry& entry : file->header().entries) {
      auto listed = result.shardByTensor_.find(entry.name);
      if (listed == result.shardByTensor_.end()) {
        badIndex(indexPath, "shard " + shard + " holds \"" + entry.name + "\", which the index does not list");
      }
      if (listed->second != file) {
        badIndex(indexPath, "\"" + entry.name + "\" is stored in " + shard + " and in " + listed->second->path());
      }
    }
  }
  return result;
}

const SafetensorsEntry& ShardedSafetensors::entry(const std::string& name) const {
  return shardByTensor_.at(name)->entry(name);
}

at::Tensor ShardedSafetensors::tensor(const std::string& name) const {
  auto found = shardByTensor_.find(name);
  if (found == shardByTensor_.end()) fail(ErrorKind::Checkpoint, "the sharded checkpoint has no tensor \"" + name + "\"");
  return found->second->tensor(name);
}

const std::string& ShardedSafetensors::shardOf(const std::string& name) const { return shardByTensor_.at(name)->path(); }

std::vector<std::string> writeShardedSafetensors(const std::string& directory, const std::vector<NamedTensor>& tensors,
                                                 uint64_t maxShardBytes, const Metadata& metadata,
                                                 const std::string& prefix) {
  if (maxShardBytes == 0) fail(ErrorKind::Argument, "maxShardBytes must be positive");
  std::error_code ignored;
  fs::create_directories(directory, ignored);
  std::vector<std::vector<NamedTensor>> shards(1);
  uint64_t shardBytes = 0;
  for (const NamedTensor& named : tensors) {
    const uint64_t bytes = named.tensor.defined() ? named.tensor.nbytes() : 0;
    if (!shards.back().empty() && shardBytes + bytes > maxShardBytes) {
      shards.emplace_back();
      shardBytes = 0;
    }
    shards.back().push_back(named);
    shardBytes += bytes;
  }

  const fs::path folder(directory);
  const std::string singleName = prefix + ".safetensors";
  const std::string indexName = prefix + ".safetensors.index.json";
  std::vector<std::string> written;
  std::set<std::string> keep;
  if (shards.size() == 1) {
    writeSafetensors((folder / singleName).string(), shards[0], metadata);
    written.push_back((folder / singleName).string());
    keep.insert(singleName);
  } else {
    nlohmann::json weightMap = nlohmann::json::object();  // std::map: sorted keys, as Hugging Face writes them
    for (size_t i = 0; i < shards.size(); ++i) {
      const std::string name = shardName(prefix, i + 1, shards.size());
      writeSafetensors((folder / name).string(), shards[i], metadata);
      for (const NamedTensor& named : shards[i]) weightMap[named.name] = name;
      written.push_back((folder / name).string());
      keep.insert(name);
    }
    nlohmann::json index = {{"metadata", {{"total_size", safetensorsDataBytes(tensors)}}}, {"weight_map", weightMap}};
    writeFileAtomically((folder / indexName).string(), index.dump(2) + "\n");
    written.push_back((folder / indexName).string());
    keep.insert(indexName);
  }
  // Remove what an earlier save with another shard count left, so the folder holds one checkpoint.
  const std::regex stale("^" + std::regex_replace(prefix, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                         R"((-\d+-of-\d+\.safetensors|\.safetensors|\.safetensors\.index\.json)$)");
  for (const auto& item : fs::directory_iterator(folder, ignored)) {
    const std::string name = item.path().filename().string();
    if (!keep.count(name) && std::regex_match(name, stale)) fs::remove(item.path(), ignored);
  }
  syncDirectory(directory);
  return written;
}

}  // namespace moonlight::io
