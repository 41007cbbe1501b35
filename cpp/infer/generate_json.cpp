#include "infer/generate_json.h"

#include "core/json_options.h"

namespace moonlight::infer {

namespace {

using Json = nlohmann::ordered_json;

struct GenerateArguments {
  GenerateOptions options;
  int64_t seed = 0;
};

template <typename Visit>
void forEachField(GenerateArguments& o, Visit&& field) {
  field("maxNewTokens", o.options.maxNewTokens);
  field("temperature", o.options.sampling.temperature);
  field("topK", o.options.sampling.topK);
  field("topP", o.options.sampling.topP);
  field("seed", o.seed);
  field("stopTokenIds", o.options.stopTokenIds);
  field("returnLogits", o.options.returnLogits);
  field("threads", o.options.threads);
}

}  // namespace

GenerateOptions generateOptionsFromJson(const Json& options) {
  GenerateArguments read;
  json_options::readOptions(options, "options", read, json_options::kCallArguments);
  read.options.seed = static_cast<uint64_t>(read.seed);
  return read.options;
}

Json generateResultToJson(const GenerateResult& result) {
  return {{"tokens", result.tokens},
          {"finishReasons", result.finishReasons},
          {"stepLogits", nullptr},
          {"cacheBytes", result.cacheBytes},
          {"cacheCapacity", result.cacheCapacity},
          {"prefillSeconds", result.prefillSeconds},
          {"decodeSeconds", result.decodeSeconds},
          {"threads", result.threads}};
}

}  // namespace moonlight::infer
