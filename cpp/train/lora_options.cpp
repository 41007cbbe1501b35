#include "train/lora_options.h"

#include "core/json_options.h"

namespace moonlight::train {

namespace {

using json_options::Json;

// targetModules: module names or suffixes, or 'all-linear'.
struct LoraTargets {
  std::vector<std::string> modules;
  bool allLinear = false;
};

void readValue(const Json& value, const std::string& name, LoraTargets& out) {
  if (value == "all-linear") {
    out.allLinear = true;
    return;
  }
  if (!value.is_array()) json_options::expected(name, value, "'all-linear' or a list of module names");
  json_options::readValue(value, name, out.modules);
}

struct LoraOptions {
  models::LoraConfig config;
  LoraTargets targets;
  int64_t seed = 0;
};

template <typename Visit>
void forEachField(LoraOptions& o, Visit&& field) {
  using json_options::kRequired;
  field("rank", o.config.rank, kRequired);
  field("alpha", o.config.alpha, kRequired);
  field("dropout", o.config.dropout, kRequired);
  field("useRslora", o.config.useRslora, kRequired);
  field("targetModules", o.targets, kRequired);
  field("seed", o.seed, kRequired);
}

}  // namespace

std::vector<std::string> attachLora(const models::ParameterList& parameters, const Json& config) {
  LoraOptions read;
  json_options::readOptions(config, "lora", read, json_options::kCallArguments);
  read.config.targetModules = std::move(read.targets.modules);
  read.config.allLinear = read.targets.allLinear;
  read.config.seed = static_cast<uint64_t>(read.seed);
  return models::attachLora(parameters, read.config);
}

}  // namespace moonlight::train
