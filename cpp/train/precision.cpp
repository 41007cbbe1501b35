#include "train/precision.h"

#include <ATen/autocast_mode.h>

#include "core/errors.h"

namespace moonlight::train {

Precision parsePrecision(const std::string& name) {
  if (name == "fp32") return Precision::Fp32;
  if (name == "bf16-mixed") return Precision::Bf16Mixed;
  fail(ErrorKind::Argument, "precision is '" + name + "'; expected 'fp32' or 'bf16-mixed'");
}

const char* precisionName(Precision precision) { return precision == Precision::Fp32 ? "fp32" : "bf16-mixed"; }

AutocastScope::AutocastScope(Precision precision, at::DeviceType deviceType) : deviceType_(deviceType) {
  if (precision != Precision::Bf16Mixed) return;
  active_ = true;
  previousEnabled_ = at::autocast::is_autocast_enabled(deviceType);
  previousDtype_ = at::autocast::get_autocast_dtype(deviceType);
  at::autocast::set_autocast_dtype(deviceType, at::kBFloat16);
  at::autocast::set_autocast_enabled(deviceType, true);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(deviceType_, previousEnabled_);
  at::autocast::set_autocast_dtype(deviceType_, previousDtype_);
}

}  // namespace moonlight::train
