#include "io/checkpoint_directory.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/errors.h"
#include "io/atomic_file.h"

namespace moonlight::io {

namespace fs = std::filesystem;

namespace {

void syncFile(const fs::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(ErrorKind::Checkpoint, file.string() + ": cannot open to fsync (" + std::strerror(errno) + ")");
  const int result = ::fsync(fd);
  ::close(fd);
  if (result != 0) fail(ErrorKind::Checkpoint, file.string() + ": fsync failed (" + std::strerror(errno) + ")");
}

bool exchangePaths(const fs::path& a, const fs::path& b) {
  return ::syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0;
}

}  // namespace

void commitCheckpointDirectory(const std::string& staging, const std::string& target) {
  const fs::path stagingPath(staging);
  const fs::path targetPath(target);
  if (!fs::is_directory(stagingPath)) fail(ErrorKind::Checkpoint, staging + ": staging folder does not exist");
  for (const auto& item : fs::recursive_directory_iterator(stagingPath)) {
    if (item.is_regular_file()) syncFile(item.path());
  }
  syncDirectory(staging);
  std::error_code missing;
  if (!fs::exists(targetPath, missing)) {
    if (::rename(stagingPath.c_str(), targetPath.c_str()) != 0) {
      fail(ErrorKind::Checkpoint, target + ": cannot rename the staged checkpoint into place (" + std::strerror(errno) + ")");
    }
  } else {
    if (!exchangePaths(stagingPath, targetPath)) {
      fail(ErrorKind::Checkpoint, target + ": cannot swap in the new checkpoint (" + std::strerror(errno) + ")");
    }
    syncDirectory(targetPath.parent_path().string());
    std::error_code ignored;
    fs::remove_all(stagingPath, ignored);  // now the previous checkpoint
  }
  syncDirectory(targetPath.parent_path().string());
}

}  // namespace moonlight::io
