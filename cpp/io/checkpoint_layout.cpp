#include "io/checkpoint_layout.h"

#include <filesystem>

#include "core/errors.h"
#include "io/sharded_safetensors.h"

namespace moonlight::io {

namespace fs = std::filesystem;

namespace {

TensorLocation locate(const SafetensorsFile& file, const std::string& name) {
  return TensorLocation{file.path(), file.entry(name), file.header().dataStart()};
}

}  // namespace

std::map<std::string, TensorLocation> readCheckpointLayout(const std::string& directory) {
  // Opening maps the files lazily: only the header pages are touched here.
  std::map<std::string, TensorLocation> layout;
  const fs::path index = fs::path(directory) / "model.safetensors.index.json";
  const fs::path single = fs::path(directory) / "model.safetensors";
  if (fs::exists(index)) {
    const ShardedSafetensors sharded = ShardedSafetensors::open(index.string());
    for (const std::string& name : sharded.names()) layout.emplace(name, locate(sharded.shardFile(name), name));
  } else if (fs::exists(single)) {
    const auto file = SafetensorsFile::open(single.string());
    for (const SafetensorsEntry& entry : file->header().entries) layout.emplace(entry.name, locate(*file, entry.name));
  } else {
    fail(ErrorKind::Checkpoint, directory + ": no model.safetensors or model.safetensors.index.json (not a Hugging Face model folder)");
  }
  return layout;
}

}  // namespace moonlight::io
