// A token cache file (<key>.tokens: the token ids of a tokenised corpus, raw little-endian uint16 or
// uint32) mapped into memory, and the gather that turns sequence start offsets into a training batch.
// The file is written by src/data/token_cache.ts; this side only reads it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "io/mapped_file.h"

namespace moonlight::data {

class TokenCache {
 public:
  // bytesPerToken is 2 (uint16) or 4 (uint32). ConfigError naming the path when the file cannot be mapped
  // or its size is not a whole number of tokens; ArgumentError for another bytesPerToken.
  static std::shared_ptr<TokenCache> open(const std::string& path, int bytesPerToken);

  const std::string& path() const { return file_->path(); }
  int bytesPerToken() const { return bytesPerToken_; }
  int64_t numTokens() const { return numTokens_; }

  // int64 [starts.size(), seqLen]: row i holds the tokens [starts[i], starts[i] + seqLen), widened to int64.
  // ArgumentError (naming the row and the cache size) when a window leaves the file or seqLen < 1.
  at::Tensor gather(const std::vector<int64_t>& starts, int64_t seqLen) const;

 private:
  TokenCache(std::shared_ptr<io::MappedFile> file, int bytesPerToken);

  std::shared_ptr<io::MappedFile> file_;
  int bytesPerToken_;
  int64_t numTokens_;
};

}  // namespace moonlight::data
