// Reading safetensors files: the file is memory-mapped once and tensors are views of the mapping (no
// copy) whenever their bytes are aligned for their dtype; the mapping lives as long as any view.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include <ATen/ATen.h>

#include "io/mapped_file.h"
#include "io/safetensors_format.h"

namespace moonlight::io {

class SafetensorsFile {
 public:
  // Maps and validates the file; CheckpointError naming the file and the problem otherwise. `readAll`
  // prefaults the whole mapping, for loads that will touch every tensor.
  static std::shared_ptr<SafetensorsFile> open(const std::string& path, bool readAll = false);

  const std::string& path() const { return file_->path(); }
  const SafetensorsHeader& header() const { return header_; }
  bool contains(const std::string& name) const { return byName_.count(name) > 0; }
  const SafetensorsEntry& entry(const std::string& name) const;
  // The tensor's values as stored (dtype and shape of the header) on the CPU.
  at::Tensor tensor(const std::string& name) const;

 private:
  SafetensorsFile(std::shared_ptr<MappedFile> file, SafetensorsHeader header);
  std::shared_ptr<MappedFile> file_;
  SafetensorsHeader header_;
  std::unordered_map<std::string, size_t> byName_;
};

// Moves a loaded tensor to the requested dtype (floating tensors only: integer and bool tensors keep
// theirs, as Hugging Face's torch_dtype does) and device, copying once if anything changes.
at::Tensor convertLoaded(const at::Tensor& tensor, std::optional<c10::ScalarType> floatingDtype,
                         std::optional<c10::Device> device);

}  // namespace moonlight::io
