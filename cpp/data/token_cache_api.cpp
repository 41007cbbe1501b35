// The token cache in the JS API (src/data/token_cache.ts): new TokenCacheHandle(path, bytesPerToken) maps
// the file (cheap: pages are read on first use); gather builds a training batch off the JS thread, so the
// next batch is ready while the current step runs.
#include "core/api_tables.h"
#include "core/errors.h"
#include "data/token_cache.h"

namespace moonlight::data {

using namespace api;  // the tables' vocabulary: Arguments, Result, Job, Kind, …

namespace {

// gather's starts: safe integers (a sampler's JS numbers), or any int64 from a BigInt64Array.
std::vector<int64_t> startsOf(const Arguments& a) {
  const Json& starts = a.data(0);
  std::vector<int64_t> result;
  for (size_t i = 0; i < starts.size(); ++i) {
    const Json& start = starts[i];
    if (!start.is_number_integer() && !(start.is_number() && json_options::isSafeInteger(start.get<double>()))) {
      fail(ErrorKind::Argument, "starts[" + std::to_string(i) + "] must be a safe integer");
    }
    result.push_back(start.get<int64_t>());
  }
  return result;
}

}  // namespace

const HandleClass<TokenCache>& tokenCacheClass() {
  // gather(starts, seqLen) → int64 [starts.length, seqLen]
  const std::vector<Parameter> gatherParameters = {{"starts", Kind::Integers}, {"seqLen", Kind::Data}};
  static const HandleClass<TokenCache> spec = {
      "TokenCacheHandle",
      "close",
      "the token cache was closed",
      "a token cache",
      {{"path", Kind::Data}, {"bytesPerToken", Kind::Data}},
      [](const Arguments& a) { return TokenCache::open(a.get<std::string>(0), static_cast<int>(a.get<int64_t>(1))); },
      {
          {"numTokens", {}, [](TokenCache& cache, const Arguments&) -> Result { return Json(cache.numTokens()); }},
          {"bytesPerToken", {}, [](TokenCache& cache, const Arguments&) -> Result { return Json(cache.bytesPerToken()); }},
          {"gather", gatherParameters, nullptr, [](std::shared_ptr<TokenCache> cache, const Arguments& a) -> Job {
             return [cache, starts = startsOf(a), seqLen = a.get<int64_t>(1)]() -> Result {
               return cache->gather(starts, seqLen);
             };
           }},
          {"gatherSync", gatherParameters, [](TokenCache& cache, const Arguments& a) -> Result {
             return cache.gather(startsOf(a), a.get<int64_t>(1));
           }},
      },
  };
  return spec;
}

}  // namespace moonlight::data
