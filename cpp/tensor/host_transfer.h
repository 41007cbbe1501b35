// Copies between JS-owned host memory (TypedArray bytes) and libtorch tensors.
#pragma once

#include <cstddef>
#include <vector>

#include "tensor/tensor_spec.h"

namespace moonlight {

// Copies `byteLength` bytes of `sourceType` elements into a new tensor of `shape`, converted to the spec's
// dtype and device. The result never aliases the source, which JS may free or mutate afterwards.
at::Tensor tensorFromHost(const void* data, size_t byteLength, c10::ScalarType sourceType,
                          const std::vector<int64_t>& shape, const TensorSpec& spec);

// A contiguous CPU tensor holding `tensor`'s values in hostTransferType(dtype), ready to be copied out.
at::Tensor hostReadable(const at::Tensor& tensor);

}  // namespace moonlight
