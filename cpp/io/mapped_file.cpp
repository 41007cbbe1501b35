#include "io/mapped_file.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errors.h"

namespace moonlight::io {

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path, bool prefault) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(ErrorKind::Checkpoint, path + ": cannot open (" + std::strerror(errno) + ")");
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    fail(ErrorKind::Checkpoint, path + ": not a regular file");
  }
  const uint64_t size = static_cast<uint64_t>(info.st_size);
  uint8_t* data = nullptr;
  if (size > 0) {
    void* mapped = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | (prefault ? MAP_POPULATE : 0), fd, 0);
    if (mapped == MAP_FAILED) {
      const int mapError = errno;
      ::close(fd);
      fail(ErrorKind::Checkpoint, path + ": cannot map (" + std::strerror(mapError) + ")");
    }
    data = static_cast<uint8_t*>(mapped);
  }
  ::close(fd);  // the mapping stays valid without the descriptor
  return std::shared_ptr<MappedFile>(new MappedFile(path, data, size));
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

}  // namespace moonlight::io
