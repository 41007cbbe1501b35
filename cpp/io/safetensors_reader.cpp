#include "io/safetensors_reader.h"

#include <cstring>

#include "core/errors.h"

namespace moonlight::io {

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path, bool readAll) {
  std::shared_ptr<MappedFile> file = MappedFile::open(path, readAll);
  const uint64_t headerBytes = checkHeaderLength(file->data(), file->size(), path);
  std::string_view json(reinterpret_cast<const char*>(file->data()) + 8, headerBytes);
  SafetensorsHeader header = parseSafetensorsHeader(json, file->size(), path);
  return std::shared_ptr<SafetensorsFile>(new SafetensorsFile(std::move(file), std::move(header)));
}

SafetensorsFile::SafetensorsFile(std::shared_ptr<MappedFile> file, SafetensorsHeader header)
    : file_(std::move(file)), header_(std::move(header)) {
  for (size_t i = 0; i < header_.entries.size(); ++i) byName_.emplace(header_.entries[i].name, i);
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
  auto found = byName_.find(name);
  if (found == byName_.end()) fail(ErrorKind::Checkpoint, path() + ": has no tensor named \"" + name + "\"");
  return header_.entries[found->second];
}

at::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const SafetensorsEntry& found = entry(name);
  const auto options = at::TensorOptions().dtype(found.dtype.scalarType).device(c10::DeviceType::CPU);
  const uint64_t bytes = found.end - found.begin;
  if (bytes == 0) return at::empty(found.shape, options);
  uint8_t* data = file_->data() + header_.dataStart() + found.begin;
  if (reinterpret_cast<uintptr_t>(data) % found.dtype.elementBytes != 0) {
    // Writers that pad the header to 8 bytes never get here; others cost one copy into aligned memory.
    at::Tensor copy = at::empty(found.shape, options);
    std::memcpy(copy.data_ptr(), data, bytes);
    return copy;
  }
  std::shared_ptr<MappedFile> keepAlive = file_;
  return at::from_blob(data, found.shape, [keepAlive](void*) {}, options);
}

at::Tensor convertLoaded(const at::Tensor& tensor, std::optional<c10::ScalarType> floatingDtype,
                         std::optional<c10::Device> device) {
  c10::ScalarType dtype = tensor.scalar_type();
  if (floatingDtype && c10::isFloatingType(dtype)) dtype = *floatingDtype;
  c10::Device target = device.value_or(tensor.device());
  if (dtype == tensor.scalar_type() && target == tensor.device()) return tensor;
  return tensor.to(at::TensorOptions().dtype(dtype).device(target));
}

}  // namespace moonlight::io
