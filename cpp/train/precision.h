// Training precision: fp32, or bf16-mixed (fp32 master weights, matmuls under bf16 autocast; norms, router,
// softmax and loss stay fp32 as autocast and the model code arrange).
#pragma once

#include <ATen/ATen.h>

#include "core/enum_names.h"

namespace moonlight::train {

enum class Precision { Fp32, Bf16Mixed };
constexpr EnumNames<Precision, 2> namesOf(Precision) {
  return {{{"fp32", Precision::Fp32}, {"bf16-mixed", Precision::Bf16Mixed}}};
}

// Enables bf16 autocast for the model's device type in its scope (this thread only) and restores the
// previous state afterwards, clearing autocast's weight-cast cache.
class AutocastScope {
 public:
  AutocastScope(Precision precision, at::DeviceType deviceType);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  at::DeviceType deviceType_;
  bool previousEnabled_ = false;
  at::ScalarType previousDtype_ = at::kBFloat16;
};

}  // namespace moonlight::train
