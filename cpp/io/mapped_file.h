// A whole file mapped into memory, copy-on-write: tensors viewing it can even be modified in place
// without touching the file (and without the SIGSEGV a read-only mapping would give).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace moonlight::io {

class MappedFile {
 public:
  // CheckpointError naming the path when the file cannot be opened or mapped. `prefault` maps every page
  // up front (one bulk kernel operation instead of a page fault per 4 KiB): right when all of the file
  // will be read, wasteful for lazy access to a few tensors.
  static std::shared_ptr<MappedFile> open(const std::string& path, bool prefault = false);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  uint8_t* data() const { return data_; }

 private:
  MappedFile(std::string path, uint8_t* data, uint64_t size) : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  uint8_t* data_;
  uint64_t size_;
};

}  // namespace moonlight::io
