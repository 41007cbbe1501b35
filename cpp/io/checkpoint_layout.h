// Where each tensor of a Hugging Face checkpoint folder lies on disk: model.safetensors, or the shards that
// model.safetensors.index.json names. Only headers are read (and validated); the data is left to a reader
// that fills the model's own memory (io/tensor_file_reader.h), so a load never holds a second copy.
#pragma once

#include <map>
#include <string>

#include "io/safetensors_format.h"

namespace moonlight::io {

struct TensorLocation {
  std::string path;        // the safetensors file
  SafetensorsEntry entry;  // dtype, shape, byte range within the data section
  uint64_t dataStart = 0;  // file offset of the data section
  uint64_t fileOffset() const { return dataStart + entry.begin; }
  uint64_t bytes() const { return entry.end - entry.begin; }
};

// CheckpointError naming the folder when it holds neither file, or when a file or the index is malformed.
std::map<std::string, TensorLocation> readCheckpointLayout(const std::string& directory);

}  // namespace moonlight::io
