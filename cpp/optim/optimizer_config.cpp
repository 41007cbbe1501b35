#include "optim/optimizer_config.h"

#include <cmath>
#include <sstream>

#include "core/errors.h"

namespace moonlight::optim {

NewtonSchulzConfig kellerJordanNewtonSchulz() {
  NewtonSchulzConfig config;
  config.coefficients = {{3.4445, -4.7750, 2.0315}};
  config.normScale = 1.0;
  return config;
}

NewtonSchulzConfig polarExpressNewtonSchulz() {
  NewtonSchulzConfig config;
  config.coefficients = {
      {8.156554524902461, -22.48329292557795, 15.878769915207462},
      {4.042929935166739, -2.808917465908714, 0.5000178451051316},
      {3.8916678022926607, -2.772484153217685, 0.5060648178503393},
      {3.285753657755655, -2.3681294933425376, 0.46449024233003106},
      {2.3465413258596377, -1.7097828382687081, 0.42323551169305323},
  };
  config.normScale = 1.02;
  return config;
}

NewtonSchulzConfig namedNewtonSchulz(const std::string& name, const std::string& optionName) {
  if (name == "keller-jordan") return kellerJordanNewtonSchulz();
  if (name == "polar-express") return polarExpressNewtonSchulz();
  fail(ErrorKind::Config, optionName + " is '" + name +
                              "'; expected 'keller-jordan', 'polar-express' or a list of [a, b, c] triples");
}

const char* optimizerKindName(OptimizerKind kind) { return kind == OptimizerKind::Muon ? "muon" : "adamw"; }

namespace {

[[noreturn]] void badOption(const ParamGroupConfig& group, const std::string& option, double value,
                            const std::string& expected) {
  std::ostringstream message;
  message << "param group '" << group.name << "': " << option << " is " << value << "; expected " << expected;
  fail(ErrorKind::Config, message.str());
}

void checkFiniteAtLeast(const ParamGroupConfig& group, const std::string& option, double value, double minimum) {
  if (!std::isfinite(value) || value < minimum) badOption(group, option, value, "a finite number ≥ " + std::to_string(minimum));
}

void checkUnitInterval(const ParamGroupConfig& group, const std::string& option, double value) {
  if (!(value >= 0 && value < 1)) badOption(group, option, value, "a number in [0, 1)");
}

}  // namespace

void validateGroupConfig(const ParamGroupConfig& group) {
  checkFiniteAtLeast(group, "lr", group.lr, 0);
  checkFiniteAtLeast(group, "weightDecay", group.weightDecay, 0);
  if (group.kind == OptimizerKind::Muon) {
    const MuonHyperParams& muon = group.muon;
    checkUnitInterval(group, "momentum", muon.momentum);
    const NewtonSchulzConfig& ns = muon.newtonSchulz;
    // 100 is torch's bound too: more steps only cost time, the iteration has converged long before.
    if (ns.steps < 1 || ns.steps >= 100) badOption(group, "nsSteps", static_cast<double>(ns.steps), "an integer in [1, 99]");
    if (ns.coefficients.empty()) fail(ErrorKind::Config, "param group '" + group.name + "': nsCoefficients is empty");
    for (size_t i = 0; i < ns.coefficients.size(); ++i) {
      const NsCoefficients& k = ns.coefficients[i];
      if (!std::isfinite(k.a) || !std::isfinite(k.b) || !std::isfinite(k.c)) {
        fail(ErrorKind::Config, "param group '" + group.name + "': nsCoefficients[" + std::to_string(i) +
                                    "] has a non-finite value");
      }
    }
    if (!(ns.normScale > 0) || !std::isfinite(ns.normScale)) badOption(group, "nsNormScale", ns.normScale, "a positive number");
    if (!(ns.eps > 0) || !std::isfinite(ns.eps)) badOption(group, "eps", ns.eps, "a positive number");
    if (ns.dtype != c10::ScalarType::BFloat16 && ns.dtype != c10::ScalarType::Float &&
        ns.dtype != c10::ScalarType::Double && ns.dtype != c10::ScalarType::Half) {
      fail(ErrorKind::DType, "param group '" + group.name + "': nsDtype must be bfloat16, float16, float32 or float64");
    }
  } else {
    const AdamWHyperParams& adamw = group.adamw;
    checkUnitInterval(group, "betas[0]", adamw.beta1);
    checkUnitInterval(group, "betas[1]", adamw.beta2);
    if (!(adamw.eps > 0) || !std::isfinite(adamw.eps)) badOption(group, "eps", adamw.eps, "a positive number");
  }
}

}  // namespace moonlight::optim
