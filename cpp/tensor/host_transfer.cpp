#include "tensor/host_transfer.h"

#include "core/dtype.h"
#include "core/errors.h"

namespace moonlight {

at::Tensor tensorFromHost(const void* data, size_t byteLength, c10::ScalarType sourceType,
                          const std::vector<int64_t>& shape, const TensorSpec& spec) {
  checkShape(shape, "shape");
  int64_t numel = 1;
  for (int64_t dim : shape) numel *= dim;
  const size_t elementBytes = c10::elementSize(sourceType);
  if (static_cast<size_t>(numel) * elementBytes != byteLength) {
    fail(ErrorKind::Shape, "data holds " + std::to_string(byteLength / elementBytes) +
                               " elements but shape needs " + std::to_string(numel));
  }
  at::Tensor result;
  if (numel == 0) {
    result = at::empty(shape, spec.options());
  } else {
    // from_blob only borrows `data`; the conversion or clone below makes the copy we own.
    at::Tensor borrowed = at::from_blob(const_cast<void*>(data), shape, at::TensorOptions().dtype(sourceType));
    result = borrowed.to(spec.options(), /*non_blocking=*/false, /*copy=*/true);
  }
  return applyRequiresGrad(result, spec);
}

at::Tensor hostReadable(const at::Tensor& tensor) {
  return tensor.detach()
      .to(at::TensorOptions().device(c10::DeviceType::CPU).dtype(hostTransferType(tensor.scalar_type())))
      .contiguous();
}

}  // namespace moonlight
