// Writing safetensors files the way the reference implementation lays them out (tensors by descending
// dtype alignment, then name; header padded to 8 bytes; __metadata__ first), streamed tensor by tensor
// into a temporary file that replaces the target only when complete.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

namespace moonlight::io {

struct NamedTensor {
  std::string name;
  at::Tensor tensor;
};

using Metadata = std::vector<std::pair<std::string, std::string>>;

// Bytes `tensors` take in the data section.
uint64_t safetensorsDataBytes(const std::vector<NamedTensor>& tensors);

void writeSafetensors(const std::string& path, const std::vector<NamedTensor>& tensors, const Metadata& metadata);

}  // namespace moonlight::io
