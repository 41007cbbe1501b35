// Which optimizer takes which parameter, and the param groups that result.
// Default (Moonlight's get_optimizer): Muon for parameters with ≥ 2 dims whose name contains none of the
// AdamW name patterns (embed_tokens, lm_head); AdamW for everything else (norm gains, biases, embeddings,
// LM head). Explicit group requests override the optimizer, lr and weight decay of their parameters.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "optim/optimizer_config.h"

namespace moonlight::optim {

struct NamedParameter {
  std::string name;
  at::Tensor tensor;
};

struct RoutingRules {
  std::vector<std::string> adamwNamePatterns = {"embed_tokens", "lm_head"};
};

// A user's param group: the parameters it lists take its overrides; unset fields keep the defaults.
struct GroupRequest {
  std::string name;
  std::vector<size_t> parameterIndices;  // into the parameter list
  std::optional<OptimizerKind> kind;     // unset: route each parameter by the rules
  std::optional<double> lr;
  std::optional<double> weightDecay;
};

struct RoutedGroups {
  std::vector<ParamGroupConfig> groups;
  std::vector<size_t> groupOf;  // groupOf[i]: the group of parameter i
};

OptimizerKind defaultRoute(const std::string& name, at::IntArrayRef shape, const RoutingRules& rules);

// Parameters no request lists form the request "default". Each request splits into "<name>/muon" and
// "<name>/adamw" (empty ones dropped) whose hyper-parameters start from muonBase / adamwBase.
// ConfigError if a parameter is listed twice, or Muon is asked for a parameter with fewer than 2 dims.
RoutedGroups routeParameters(const std::vector<NamedParameter>& params, const std::vector<GroupRequest>& requests,
                             const ParamGroupConfig& muonBase, const ParamGroupConfig& adamwBase,
                             const RoutingRules& rules);

}  // namespace moonlight::optim
