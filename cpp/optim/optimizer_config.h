// The plain-struct configuration of the optimizers (Muon, AdamW, and the hybrid Muon-with-AdamW that
// Moonlight trains with). The user's options become these in optimizer_options.h; a C++ train step can fill
// them directly.
// Defaults are Moonlight's (the MoonshotAI/Moonlight repository's examples/toy_train.py and arXiv:2502.16982).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <c10/core/ScalarType.h>

#include "core/enum_names.h"
#include "core/option_checks.h"

namespace moonlight::optim {

// One Newton–Schulz iteration X ← a·X + (b·A + c·A²)·X with A = X·Xᵀ.
struct NsCoefficients {
  double a = 0;
  double b = 0;
  double c = 0;
};

struct NewtonSchulzConfig {
  int64_t steps = 5;
  // Coefficients of iteration k are coefficients[min(k, size − 1)]: one triple repeats (Keller Jordan),
  // a schedule (Polar Express) is followed and its last triple repeats if steps exceed it.
  std::vector<NsCoefficients> coefficients;
  // The input is divided by (normScale·‖X‖_F + eps): 1 for Keller Jordan, 1.02 for Polar Express
  // (a safety margin so that every singular value starts at or below 1).
  double normScale = 1.0;
  double eps = 1e-7;
  // Precision of the iteration (bfloat16 as in every reference); normalisation is done before the cast.
  c10::ScalarType dtype = c10::ScalarType::BFloat16;
};

// Shape factor s(A, B) of the orthogonalized update, A = rows (fan-out), B = cols (fan-in) of one matrix.
enum class UpdateScale {
  MatchRmsAdamW,  // 0.2·√max(A, B): Moonlight, torch "match_rms_adamw" (update RMS ≈ 0.2, paper Lemma 1)
  Original,       // √max(1, A/B): Keller Jordan, torch's default "original"
};
constexpr EnumNames<UpdateScale, 2> namesOf(UpdateScale) {
  return {{{"match-rms-adamw", UpdateScale::MatchRmsAdamW}, {"original", UpdateScale::Original}}};
}

// Where AdamW adds eps. The two are different optimizers for small second moments.
enum class AdamEpsPlacement {
  Torch,      // m̂ / (√v̂ + eps), bias-corrected v (torch.optim.AdamW)
  Moonlight,  // m / (√v + eps) on the raw moments, bias correction folded into the step size (toy_train.py)
};
constexpr EnumNames<AdamEpsPlacement, 2> namesOf(AdamEpsPlacement) {
  return {{{"torch", AdamEpsPlacement::Torch}, {"moonlight", AdamEpsPlacement::Moonlight}}};
}

enum class OptimizerKind { Muon, AdamW };
constexpr EnumNames<OptimizerKind, 2> namesOf(OptimizerKind) {
  return {{{"muon", OptimizerKind::Muon}, {"adamw", OptimizerKind::AdamW}}};
}

struct MuonHyperParams {
  double momentum = 0.95;
  bool nesterov = true;
  NewtonSchulzConfig newtonSchulz;
  UpdateScale updateScale = UpdateScale::MatchRmsAdamW;
};

struct AdamWHyperParams {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  AdamEpsPlacement epsPlacement = AdamEpsPlacement::Moonlight;
};

// A set of parameters updated by one rule with one learning rate and weight decay (torch's param group).
struct ParamGroupConfig {
  std::string name;
  OptimizerKind kind = OptimizerKind::Muon;
  double lr = 1e-3;
  double weightDecay = 0.1;  // decoupled: W ← W·(1 − lr·weightDecay), with the unadjusted lr
  MuonHyperParams muon;
  AdamWHyperParams adamw;
};

// What step() does when a gradient holds NaN or ±Inf.
enum class NonFiniteGradPolicy { Error, SkipStep };
constexpr EnumNames<NonFiniteGradPolicy, 2> namesOf(NonFiniteGradPolicy) {
  return {{{"error", NonFiniteGradPolicy::Error}, {"skip", NonFiniteGradPolicy::SkipStep}}};
}

// The Keller Jordan triple (3.4445, −4.7750, 2.0315), used by Moonlight and torch.optim.Muon.
NewtonSchulzConfig kellerJordanNewtonSchulz();
// Polar Express (Amsel et al. 2025): five minimax-optimal triples, input scaled by 1/(1.02·‖X‖_F).
NewtonSchulzConfig polarExpressNewtonSchulz();
// "keller-jordan" | "polar-express"; ConfigError naming `optionName` otherwise.
NewtonSchulzConfig namedNewtonSchulz(const std::string& name, const std::string& optionName);

// 100 is torch's bound too: more steps only cost time, the iteration has converged long before.
constexpr json_options::Range kNewtonSchulzSteps{1, 99, true, true, "an integer in [1, 99]"};
// The iteration needs a floating-point type: bfloat16, float16, float32 or float64.
bool isNewtonSchulzDtype(c10::ScalarType dtype);

// ConfigError naming the group and the option if a hyper-parameter is out of range.
void validateGroupConfig(const ParamGroupConfig& group);

inline const char* optimizerKindName(OptimizerKind kind) { return nameOf(kind); }

}  // namespace moonlight::optim
