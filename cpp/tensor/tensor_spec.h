// What a newly created tensor should be (dtype, device, whether autograd tracks it), and what a tensor
// should be converted to; both read from the JS API's {dtype?, device?, requiresGrad?} objects.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <ATen/ATen.h>

namespace moonlight {

struct TensorSpec {
  c10::ScalarType dtype = c10::ScalarType::Float;
  c10::Device device = c10::Device(c10::DeviceType::CPU);
  bool requiresGrad = false;

  at::TensorOptions options() const { return at::TensorOptions().dtype(dtype).device(device); }
};

template <typename Visit>
void forEachField(TensorSpec& spec, Visit&& field) {
  field("dtype", spec.dtype);
  field("device", spec.device);
  field("requiresGrad", spec.requiresGrad);
}

// Unset: as the tensor is.
struct ConversionTarget {
  std::optional<c10::ScalarType> dtype;
  std::optional<c10::Device> device;
};

template <typename Visit>
void forEachField(ConversionTarget& target, Visit&& field) {
  field("dtype", target.dtype);
  field("device", target.device);
}

// Marks a fresh tensor as an autograd leaf when the spec asks for it; only floating dtypes can carry grads.
at::Tensor applyRequiresGrad(at::Tensor tensor, const TensorSpec& spec);

void checkShape(const std::vector<int64_t>& shape, const char* argumentName);

}  // namespace moonlight
