#include "io/atomic_file.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <unistd.h>

#include "core/errors.h"

namespace moonlight::io {

namespace {

std::atomic<uint64_t> temporaryCounter{0};

[[noreturn]] void ioFailure(const std::string& path, const char* action) {
  fail(ErrorKind::Checkpoint, path + ": cannot " + action + " (" + std::strerror(errno) + ")");
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string targetPath) : targetPath_(std::move(targetPath)) {
  std::filesystem::path target(targetPath_);
  temporaryPath_ = (target.parent_path() / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) +
                                            "-" + std::to_string(temporaryCounter++)))
                       .string();
  fd_ = ::open(temporaryPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) ioFailure(temporaryPath_, "create");
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temporaryPath_.c_str());
}

void AtomicFileWriter::write(const void* data, uint64_t bytes) {
  const auto* cursor = static_cast<const uint8_t*>(data);
  while (bytes > 0) {
    ssize_t written = ::write(fd_, cursor, bytes);
    if (written < 0) {
      if (errno == EINTR) continue;
      ioFailure(temporaryPath_, "write");
    }
    cursor += written;
    bytes -= static_cast<uint64_t>(written);
  }
}

void AtomicFileWriter::commit() {
  if (::fsync(fd_) != 0) ioFailure(temporaryPath_, "fsync");
  if (::close(fd_) != 0) {
    fd_ = -1;
    ioFailure(temporaryPath_, "close");
  }
  fd_ = -1;
  if (::rename(temporaryPath_.c_str(), targetPath_.c_str()) != 0) ioFailure(targetPath_, "rename into place");
  committed_ = true;
  syncDirectory(std::filesystem::path(targetPath_).parent_path().string());
}

void writeFileAtomically(const std::string& path, const std::string& text) {
  AtomicFileWriter writer(path);
  writer.write(text.data(), text.size());
  writer.commit();
}

void syncDirectory(const std::string& directory) {
  int fd = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the data itself is already fsynced
  ::fsync(fd);
  ::close(fd);
}

}  // namespace moonlight::io
