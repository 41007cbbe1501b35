// Muon's and AdamW's options as users write them (the camelCase keys of src/optim/muon.ts and adamw.ts),
// parsed once, here, from JSON: each optimizer's keys, types, ranges and defaults are one field list
// (muon_options.cpp, adamw_options.cpp). The bindings and TS pass the options object through untouched.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/enum_names.h"
#include "core/option_checks.h"
#include "optim/distributed_step.h"
#include "optim/optimizer.h"
#include "optim/optimizer_config.h"
#include "optim/param_routing.h"

namespace moonlight::optim {

// How the state is partitioned over data-parallel ranks (cpp/dist): the Moonlight paper's Algorithm 1
// (ZeRO-1 chunks of every bucket) or whole parameters per rank.
enum class DistributedMode { Zero1, WholeMatrix };
constexpr EnumNames<DistributedMode, 2> namesOf(DistributedMode) {
  return {{{"zero1", DistributedMode::Zero1}, {"whole-matrix", DistributedMode::WholeMatrix}}};
}

struct DistributedOptions {
  DistributedMode mode = DistributedMode::Zero1;
  std::optional<int64_t> bucketBytes;  // unset: the strategy's default
};

// options.distributed's keys (core/json_options.h).
template <typename Visit>
void forEachField(DistributedOptions& o, Visit&& field) {
  field("mode", o.mode, json_options::kRequired);
  field("bucketBytes", o.bucketBytes, json_options::Range{1, json_options::kInfinity, true, false, "a positive integer"});
}

// What an optimizer is built from besides its parameters and their groups.
struct OptimizerSetup {
  // Every routed group starts from this (its kind decides whether the muon or the adamw part applies);
  // adamwBase differs where an option sets the AdamW-routed parameters apart.
  ParamGroupConfig muonBase;
  ParamGroupConfig adamwBase;
  RoutingRules routing;
  NonFiniteGradPolicy nonFiniteGrads = NonFiniteGradPolicy::Error;
  std::optional<DistributedOptions> distributed;
};

// ConfigError "options.<key> ..." for an unknown key, a wrong type or a value out of range.
OptimizerSetup muonSetup(const nlohmann::ordered_json& options);
OptimizerSetup adamwSetup(const nlohmann::ordered_json& options);

// The data-parallel strategy for options.distributed (cpp/dist); called only when it is set.
using DistributedStrategies = std::function<DistributedStepFactory(const DistributedOptions&)>;

// The optimizer `kind` ('muon' | 'adamw') over `params`. `groups`: [{name, parameterIndices, optimizer?, lr?,
// weightDecay?}] — group i is the user's params[i]; `options`: the user's options object.
std::shared_ptr<Optimizer> makeOptimizer(const std::string& kind, std::vector<NamedParameter> params,
                                         const nlohmann::ordered_json& groups, const nlohmann::ordered_json& options,
                                         const DistributedStrategies& strategies);

}  // namespace moonlight::optim
