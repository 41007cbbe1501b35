#include "train/precision.h"

#include <ATen/autocast_mode.h>

namespace moonlight::train {

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
