// Reads checkpoint tensors from their files straight into the memory that will hold them (pread, no
// mapping): a tensor stored in its destination's dtype is read once into place; any other goes through a
// bounded staging buffer and is converted chunk by chunk. A CUDA destination is filled the same way from a
// pinned staging buffer, so a load never builds the model on the host first. Peak memory: the destination
// plus the staging buffer.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <ATen/ATen.h>

#include "io/checkpoint_layout.h"

namespace moonlight::io {

class TensorFileReader {
 public:
  explicit TensorFileReader(uint64_t stagingBytes = uint64_t{64} << 20);
  ~TensorFileReader();
  TensorFileReader(const TensorFileReader&) = delete;
  TensorFileReader& operator=(const TensorFileReader&) = delete;

  // Fills `destination` (same number of elements as the stored tensor; any floating dtype when the stored
  // one is floating) with the tensor at `location`. CheckpointError naming the file on a read failure.
  void read(const TensorLocation& location, const at::Tensor& destination);

 private:
  int descriptor(const std::string& path);
  void readBytes(const TensorLocation& location, uint64_t offset, uint64_t bytes, void* target);
  at::Tensor staging(bool pinned);

  uint64_t stagingBytes_;
  std::map<std::string, int> descriptors_;
  at::Tensor staging_;
};

}  // namespace moonlight::io
