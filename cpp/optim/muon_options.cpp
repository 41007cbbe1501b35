// Muon's options: the one list of its keys (src/optim/muon.ts documents each for users), and what they make.
// Defaults are Moonlight's (optimizer_config.h): its AdamW part shares lr and weight decay with Muon.
#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "core/json_options.h"
#include "optim/optimizer_options.h"

namespace moonlight::optim {

namespace {

using json_options::Json;

// nsCoefficients: a named schedule or the user's own list of [a, b, c] triples (normalised by ‖X‖_F alone).
struct NewtonSchulzCoefficients {
  std::vector<NsCoefficients> triples = kellerJordanNewtonSchulz().coefficients;
  double normScale = kellerJordanNewtonSchulz().normScale;
};

void readValue(const Json& value, const std::string& name, NewtonSchulzCoefficients& out) {
  if (value.is_string()) {
    NewtonSchulzConfig named = namedNewtonSchulz(value.get<std::string>(), name);
    out = {named.coefficients, named.normScale};
    return;
  }
  if (!value.is_array()) {
    json_options::expected(name, value, "'keller-jordan', 'polar-express' or a list of [a, b, c] triples");
  }
  if (value.empty()) fail(ErrorKind::Config, name + " is empty; expected at least one [a, b, c] triple");
  out = {{}, 1.0};
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string tripleName = name + "[" + std::to_string(i) + "]";
    if (!value[i].is_array() || value[i].size() != 3) fail(ErrorKind::Config, tripleName + " must be a triple [a, b, c]");
    std::array<double, 3> abc{};
    json_options::readValue(value[i], tripleName, abc);
    out.triples.push_back({abc[0], abc[1], abc[2]});
  }
}

void finiteTriples(const NewtonSchulzCoefficients& coefficients, const std::string& name) {
  for (size_t i = 0; i < coefficients.triples.size(); ++i) {
    const NsCoefficients& k = coefficients.triples[i];
    if (!std::isfinite(k.a) || !std::isfinite(k.b) || !std::isfinite(k.c)) {
      fail(ErrorKind::Config, name + "[" + std::to_string(i) + "] has a non-finite value");
    }
  }
}

void newtonSchulzDtype(c10::ScalarType dtype, const std::string& name) {
  if (!isNewtonSchulzDtype(dtype)) {
    fail(ErrorKind::DType, name + " is " + std::string(c10::toString(dtype)) +
                               "; expected 'bfloat16', 'float16', 'float32' or 'float64'");
  }
}

struct MuonOptions {
  ParamGroupConfig base;  // lr, weightDecay and the Muon hyper-parameters, read in place
  NewtonSchulzCoefficients nsCoefficients;
  std::optional<double> nsNormScale;  // unset: the coefficients' own (1.02 for Polar Express)
  std::array<double, 2> adamwBetas = {AdamWHyperParams{}.beta1, AdamWHyperParams{}.beta2};
  std::optional<double> adamwWeightDecay;  // unset: weightDecay, as Moonlight decays every parameter
  RoutingRules routing;
  NonFiniteGradPolicy nonFiniteGrads = NonFiniteGradPolicy::Error;
  std::optional<DistributedOptions> distributed;
};

template <typename Visit>
void forEachField(MuonOptions& o, Visit&& field) {
  using namespace json_options;
  MuonHyperParams& muon = o.base.muon;
  field("lr", o.base.lr, kNonNegative);
  field("weightDecay", o.base.weightDecay, kNonNegative);
  field("momentum", muon.momentum, kUnitInterval);
  field("nesterov", muon.nesterov);
  field("nsSteps", muon.newtonSchulz.steps, kNewtonSchulzSteps);
  field("nsCoefficients", o.nsCoefficients, finiteTriples);
  field("nsNormScale", o.nsNormScale, kPositive);
  field("nsDtype", muon.newtonSchulz.dtype, newtonSchulzDtype);
  field("eps", muon.newtonSchulz.eps, kPositive);
  field("updateScale", muon.updateScale);
  field("adamwBetas", o.adamwBetas, kUnitInterval);
  field("adamwEps", o.base.adamw.eps, kPositive);
  field("adamwEpsPlacement", o.base.adamw.epsPlacement);
  field("adamwWeightDecay", o.adamwWeightDecay, kNonNegative);
  field("adamwNamePatterns", o.routing.adamwNamePatterns);
  field("nonFiniteGrads", o.nonFiniteGrads);
  field("distributed", o.distributed);
}

}  // namespace

OptimizerSetup muonSetup(const Json& options) {
  MuonOptions o;
  json_options::readOptions(options, "options", o);
  NewtonSchulzConfig& ns = o.base.muon.newtonSchulz;
  ns.coefficients = o.nsCoefficients.triples;
  ns.normScale = o.nsNormScale.value_or(o.nsCoefficients.normScale);
  o.base.adamw.beta1 = o.adamwBetas[0];
  o.base.adamw.beta2 = o.adamwBetas[1];
  ParamGroupConfig adamwBase = o.base;
  adamwBase.weightDecay = o.adamwWeightDecay.value_or(o.base.weightDecay);
  return {o.base, adamwBase, o.routing, o.nonFiniteGrads, o.distributed};
}

}  // namespace moonlight::optim
