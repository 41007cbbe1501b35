#include "core/dtype.h"

#include "core/errors.h"

namespace moonlight {

namespace {
struct NamedType {
  const char* name;
  c10::ScalarType type;
};
constexpr NamedType kNamedTypes[] = {
    {"float32", c10::ScalarType::Float},  {"float64", c10::ScalarType::Double},
    {"bfloat16", c10::ScalarType::BFloat16}, {"float16", c10::ScalarType::Half},
    {"int64", c10::ScalarType::Long},     {"int32", c10::ScalarType::Int},
    {"uint8", c10::ScalarType::Byte},     {"bool", c10::ScalarType::Bool},
    // Storage dtypes that checkpoints carry; readable and convertible, not meant for arithmetic.
    {"int16", c10::ScalarType::Short},    {"int8", c10::ScalarType::Char},
    {"float8_e4m3fn", c10::ScalarType::Float8_e4m3fn}, {"float8_e5m2", c10::ScalarType::Float8_e5m2},
};
}  // namespace

c10::ScalarType scalarTypeFromName(const std::string& name) {
  for (const auto& entry : kNamedTypes) {
    if (name == entry.name) return entry.type;
  }
  fail(ErrorKind::DType, "unknown dtype '" + name +
                             "'; expected one of float32, float64, bfloat16, float16, int64, int32, uint8, bool");
}

std::string dtypeName(c10::ScalarType type) {
  for (const auto& entry : kNamedTypes) {
    if (type == entry.type) return entry.name;
  }
  // Tensors of other dtypes (e.g. float8 from a checkpoint) still get a readable name.
  return c10::toString(type);
}

c10::ScalarType hostTransferType(c10::ScalarType type) {
  switch (type) {
    case c10::ScalarType::BFloat16:
    case c10::ScalarType::Half:
      return c10::ScalarType::Float;
    case c10::ScalarType::Bool:
      return c10::ScalarType::Byte;
    default:
      return type;
  }
}

}  // namespace moonlight
