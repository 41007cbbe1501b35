// Standalone AdamW's options: the one list of its keys (src/optim/adamw.ts documents them for users).
// Defaults are Moonlight's (optimizer_config.h) except eps placement: torch.optim.AdamW's, as the name promises.
#include <array>
#include <optional>

#include "core/json_options.h"
#include "optim/optimizer_options.h"

namespace moonlight::optim {

namespace {

struct AdamWOptions {
  ParamGroupConfig base;  // lr, weightDecay and the AdamW hyper-parameters, read in place
  std::array<double, 2> betas = {AdamWHyperParams{}.beta1, AdamWHyperParams{}.beta2};
  NonFiniteGradPolicy nonFiniteGrads = NonFiniteGradPolicy::Error;
  std::optional<DistributedOptions> distributed;
};

template <typename Visit>
void forEachField(AdamWOptions& o, Visit&& field) {
  using namespace json_options;
  field("lr", o.base.lr, kNonNegative);
  field("weightDecay", o.base.weightDecay, kNonNegative);
  field("betas", o.betas, kUnitInterval);
  field("eps", o.base.adamw.eps, kPositive);
  field("epsPlacement", o.base.adamw.epsPlacement);
  field("nonFiniteGrads", o.nonFiniteGrads);
  field("distributed", o.distributed);
}

}  // namespace

OptimizerSetup adamwSetup(const json_options::Json& options) {
  AdamWOptions o;
  o.base.kind = OptimizerKind::AdamW;
  o.base.adamw.epsPlacement = AdamEpsPlacement::Torch;
  json_options::readOptions(options, "options", o);
  o.base.adamw.beta1 = o.betas[0];
  o.base.adamw.beta2 = o.betas[1];
  return {o.base, o.base, RoutingRules{}, o.nonFiniteGrads, o.distributed};
}

}  // namespace moonlight::optim
