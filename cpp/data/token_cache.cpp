#include "data/token_cache.h"

#include <bit>
#include <cstring>

#include "core/errors.h"

namespace moonlight::data {

namespace {

// The cache format is little-endian; on such a host the ids are read in place. (A big-endian host is
// refused at open: no supported platform is one.)
constexpr bool kLittleEndianHost = std::endian::native == std::endian::little;

template <typename Id>
void widenRow(const uint8_t* source, int64_t count, int64_t* target) {
  const Id* ids = reinterpret_cast<const Id*>(source);  // the mapping is page-aligned, rows are Id-aligned
  for (int64_t i = 0; i < count; ++i) target[i] = static_cast<int64_t>(ids[i]);
}

}  // namespace

std::shared_ptr<TokenCache> TokenCache::open(const std::string& path, int bytesPerToken) {
  if (bytesPerToken != 2 && bytesPerToken != 4) {
    fail(ErrorKind::Argument, "bytesPerToken must be 2 (uint16) or 4 (uint32), got " + std::to_string(bytesPerToken));
  }
  if (!kLittleEndianHost) fail(ErrorKind::Config, path + ": token caches are little-endian; this host is not");
  std::shared_ptr<io::MappedFile> file;
  try {
    file = io::MappedFile::open(path);
  } catch (const Error& error) {
    fail(ErrorKind::Config, std::string("token cache ") + error.what());
  }
  if (file->size() % static_cast<uint64_t>(bytesPerToken) != 0) {
    fail(ErrorKind::Config, path + ": token cache size " + std::to_string(file->size()) +
                                " bytes is not a whole number of " + std::to_string(bytesPerToken) + "-byte tokens");
  }
  return std::shared_ptr<TokenCache>(new TokenCache(std::move(file), bytesPerToken));
}

TokenCache::TokenCache(std::shared_ptr<io::MappedFile> file, int bytesPerToken)
    : file_(std::move(file)),
      bytesPerToken_(bytesPerToken),
      numTokens_(static_cast<int64_t>(file_->size() / static_cast<uint64_t>(bytesPerToken))) {}

at::Tensor TokenCache::gather(const std::vector<int64_t>& starts, int64_t seqLen) const {
  if (seqLen < 1) fail(ErrorKind::Argument, "seqLen must be at least 1, got " + std::to_string(seqLen));
  for (size_t row = 0; row < starts.size(); ++row) {
    const int64_t start = starts[row];
    if (start < 0 || start > numTokens_ - seqLen) {
      fail(ErrorKind::Argument, "sequence start " + std::to_string(start) + " (row " + std::to_string(row) +
                                    ") with seqLen " + std::to_string(seqLen) + " is outside the token cache " +
                                    path() + " of " + std::to_string(numTokens_) + " tokens");
    }
  }
  at::Tensor batch = at::empty({static_cast<int64_t>(starts.size()), seqLen}, at::kLong);
  int64_t* out = batch.data_ptr<int64_t>();
  const uint8_t* base = file_->data();
  for (size_t row = 0; row < starts.size(); ++row) {
    const uint8_t* source = base + starts[row] * bytesPerToken_;
    int64_t* target = out + static_cast<int64_t>(row) * seqLen;
    if (bytesPerToken_ == 2) {
      widenRow<uint16_t>(source, seqLen, target);
    } else {
      widenRow<uint32_t>(source, seqLen, target);
    }
  }
  return batch;
}

}  // namespace moonlight::data
