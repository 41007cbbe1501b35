// Checkpoints split over several safetensors files with a Hugging Face index
// (model.safetensors.index.json: {"metadata": {"total_size": N}, "weight_map": {tensor: file}}).
// Shard names always come from the index: real repositories do not all zero-pad them.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/safetensors_reader.h"
#include "io/safetensors_writer.h"

namespace moonlight::io {

constexpr uint64_t kDefaultMaxShardBytes = 5'000'000'000;  // Hugging Face's default "5GB"

class ShardedSafetensors {
 public:
  // Reads and cross-checks the index and every shard it names; CheckpointError otherwise.
  static ShardedSafetensors open(const std::string& indexPath);

  const std::vector<std::string>& names() const { return names_; }  // in weight_map order
  const std::vector<std::string>& shardPaths() const { return shardPaths_; }
  const SafetensorsEntry& entry(const std::string& name) const;
  at::Tensor tensor(const std::string& name) const;
  const std::string& shardOf(const std::string& name) const;
  // The shard file holding `name` (its header gives where the tensor's bytes lie).
  const SafetensorsFile& shardFile(const std::string& name) const { return *shardByTensor_.at(name); }

 private:
  std::vector<std::string> names_;
  std::vector<std::string> shardPaths_;
  std::map<std::string, std::shared_ptr<SafetensorsFile>> shardByTensor_;
};

// Writes `tensors` (in order) into shards of at most maxShardBytes each (a larger tensor gets a shard of
// its own): one file `<prefix>.safetensors` if they fit, else `<prefix>-0000i-of-0000n.safetensors` plus
// `<prefix>.safetensors.index.json`. Stale shards of an earlier save are removed. Returns the files written.
std::vector<std::string> writeShardedSafetensors(const std::string& directory, const std::vector<NamedTensor>& tensors,
                                                 uint64_t maxShardBytes, const Metadata& metadata,
                                                 const std::string& prefix = "model");

}  // namespace moonlight::io
