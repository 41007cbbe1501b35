// What a newly created tensor should be: dtype, device and whether autograd tracks it.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/ATen.h>

namespace moonlight {

struct TensorSpec {
  c10::ScalarType dtype = c10::ScalarType::Float;
  c10::Device device = c10::Device(c10::DeviceType::CPU);
  bool requiresGrad = false;

  at::TensorOptions options() const { return at::TensorOptions().dtype(dtype).device(device); }
};

// Marks a fresh tensor as an autograd leaf when the spec asks for it; only floating dtypes can carry grads.
at::Tensor applyRequiresGrad(at::Tensor tensor, const TensorSpec& spec);

void checkShape(const std::vector<int64_t>& shape, const char* argumentName);

}  // namespace moonlight
