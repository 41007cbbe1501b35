// Writes that never leave a partial file under the final name: data goes to a temporary file in the
// same folder, which is fsynced and then renamed over the target (and the folder fsynced), so a crash
// at any point leaves either the old file or the complete new one.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace moonlight::io {

class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string targetPath);
  ~AtomicFileWriter();  // removes the temporary file unless commit() succeeded
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, uint64_t bytes);
  void commit();
  const std::string& temporaryPath() const { return temporaryPath_; }

 private:
  std::string targetPath_;
  std::string temporaryPath_;
  int fd_ = -1;
  bool committed_ = false;
};

// Writes `text` to `path` atomically.
void writeFileAtomically(const std::string& path, const std::string& text);

// fsync of a folder, so a rename inside it survives a power loss.
void syncDirectory(const std::string& directory);

}  // namespace moonlight::io
