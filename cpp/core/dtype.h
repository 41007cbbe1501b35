// The dtype names the JS API speaks ('float32', 'bfloat16', ...) and their libtorch scalar types.
#pragma once

#include <string>

#include <c10/core/ScalarType.h>

namespace moonlight {

c10::ScalarType scalarTypeFromName(const std::string& name);
std::string dtypeName(c10::ScalarType type);

// The dtype a tensor has when its values are handed to JS as a TypedArray: JS has no 16-bit float
// array, so bfloat16/float16 widen (exactly) to float32 and bool travels as uint8.
c10::ScalarType hostTransferType(c10::ScalarType type);

}  // namespace moonlight
