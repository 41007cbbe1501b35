#include "io/tensor_file_reader.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "core/errors.h"

namespace moonlight::io {

TensorFileReader::TensorFileReader(uint64_t stagingBytes) : stagingBytes_(stagingBytes) {}

TensorFileReader::~TensorFileReader() {
  for (const auto& [path, fd] : descriptors_) ::close(fd);
}

int TensorFileReader::descriptor(const std::string& path) {
  auto found = descriptors_.find(path);
  if (found != descriptors_.end()) return found->second;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(ErrorKind::Checkpoint, path + ": cannot open (" + std::strerror(errno) + ")");
  // The whole file will be read front to back: let the kernel read ahead generously.
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  descriptors_.emplace(path, fd);
  return fd;
}

void TensorFileReader::readBytes(const TensorLocation& location, uint64_t offset, uint64_t bytes, void* target) {
  const int fd = descriptor(location.path);
  auto* cursor = static_cast<uint8_t*>(target);
  uint64_t position = location.fileOffset() + offset;
  while (bytes > 0) {
    const ssize_t got = ::pread(fd, cursor, bytes, static_cast<off_t>(position));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      fail(ErrorKind::Checkpoint, location.path + ": cannot read \"" + location.entry.name + "\" (" +
                                      (got < 0 ? std::string(std::strerror(errno)) : std::string("file ends early")) + ")");
    }
    cursor += got;
    position += static_cast<uint64_t>(got);
    bytes -= static_cast<uint64_t>(got);
  }
}

at::Tensor TensorFileReader::staging(bool pinned) {
  if (!staging_.defined() || staging_.is_pinned() != pinned) {
    staging_ = at::empty({static_cast<int64_t>(stagingBytes_)}, at::TensorOptions().dtype(at::kByte).pinned_memory(pinned));
  }
  return staging_;
}

void TensorFileReader::read(const TensorLocation& location, const at::Tensor& destination) {
  const SafetensorsEntry& entry = location.entry;
  const uint64_t elementBytes = entry.dtype.elementBytes;
  const int64_t elements = static_cast<int64_t>(location.bytes() / elementBytes);
  if (destination.numel() != elements) {
    fail(ErrorKind::Checkpoint, location.path + ": \"" + entry.name + "\" holds " + std::to_string(elements) +
                                    " elements, the model's tensor " + std::to_string(destination.numel()));
  }
  if (elements == 0) return;
  at::NoGradGuard noGrad;
  const bool onCpu = destination.device().is_cpu();
  if (onCpu && destination.is_contiguous() && destination.scalar_type() == entry.dtype.scalarType) {
    readBytes(location, 0, location.bytes(), destination.data_ptr());
    return;
  }
  // Converted (or moved to the device) one staging buffer at a time.
  at::Tensor flat = destination.view({-1});
  at::Tensor buffer = staging(/*pinned=*/!onCpu && at::hasCUDA());
  const int64_t chunkElements = static_cast<int64_t>(stagingBytes_ / elementBytes);
  for (int64_t start = 0; start < elements; start += chunkElements) {
    const int64_t count = std::min(chunkElements, elements - start);
    readBytes(location, static_cast<uint64_t>(start) * elementBytes, static_cast<uint64_t>(count) * elementBytes,
              buffer.data_ptr());
    at::Tensor source = at::from_blob(buffer.data_ptr(), {count}, at::TensorOptions().dtype(entry.dtype.scalarType));
    flat.narrow(0, start, count).copy_(source);
  }
}

}  // namespace moonlight::io
