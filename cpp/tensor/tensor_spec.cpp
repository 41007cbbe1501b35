#include "tensor/tensor_spec.h"

#include "core/dtype.h"
#include "core/errors.h"

namespace moonlight {

at::Tensor applyRequiresGrad(at::Tensor tensor, const TensorSpec& spec) {
  if (!spec.requiresGrad) return tensor;
  if (!c10::isFloatingType(spec.dtype)) {
    fail(ErrorKind::DType, "requiresGrad needs a floating dtype, got " + dtypeName(spec.dtype));
  }
  tensor.set_requires_grad(true);
  return tensor;
}

void checkShape(const std::vector<int64_t>& shape, const char* argumentName) {
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) {
      fail(ErrorKind::Shape, std::string(argumentName) + "[" + std::to_string(i) +
                                 "] is " + std::to_string(shape[i]) + "; dimensions must be non-negative integers");
    }
  }
}

}  // namespace moonlight
