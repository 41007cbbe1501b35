#include "optim/optimizer_config.h"

#include <cmath>

#include "core/errors.h"
#include "core/json_options.h"

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

bool isNewtonSchulzDtype(c10::ScalarType dtype) {
  return dtype == c10::ScalarType::BFloat16 || dtype == c10::ScalarType::Float || dtype == c10::ScalarType::Double ||
         dtype == c10::ScalarType::Half;
}

// The ranges are the options parser's (optimizer_options.h), named here by the group's field.
void validateGroupConfig(const ParamGroupConfig& group) {
  using namespace json_options;
  const std::string where = "param group '" + group.name + "': ";
  kNonNegative(group.lr, where + "lr");
  kNonNegative(group.weightDecay, where + "weightDecay");
  if (group.kind == OptimizerKind::Muon) {
    const MuonHyperParams& muon = group.muon;
    kUnitInterval(muon.momentum, where + "momentum");
    const NewtonSchulzConfig& ns = muon.newtonSchulz;
    kNewtonSchulzSteps(ns.steps, where + "nsSteps");
    if (ns.coefficients.empty()) fail(ErrorKind::Config, where + "nsCoefficients is empty");
    for (size_t i = 0; i < ns.coefficients.size(); ++i) {
      const NsCoefficients& k = ns.coefficients[i];
      if (!std::isfinite(k.a) || !std::isfinite(k.b) || !std::isfinite(k.c)) {
        fail(ErrorKind::Config, where + "nsCoefficients[" + std::to_string(i) + "] has a non-finite value");
      }
    }
    kPositive(ns.normScale, where + "nsNormScale");
    kPositive(ns.eps, where + "eps");
    if (!isNewtonSchulzDtype(ns.dtype)) fail(ErrorKind::DType, where + "nsDtype must be bfloat16, float16, float32 or float64");
  } else {
    const AdamWHyperParams& adamw = group.adamw;
    kUnitInterval(adamw.beta1, where + "betas[0]");
    kUnitInterval(adamw.beta2, where + "betas[1]");
    kPositive(adamw.eps, where + "eps");
  }
}

}  // namespace moonlight::optim
