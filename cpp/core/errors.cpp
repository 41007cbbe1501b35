#include "core/errors.h"

namespace moonlight {

const char* errorClassName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Argument: return "ArgumentError";
    case ErrorKind::Shape: return "ShapeError";
    case ErrorKind::DType: return "DTypeError";
    case ErrorKind::Device: return "DeviceError";
    case ErrorKind::Disposed: return "DisposedError";
    case ErrorKind::Config: return "ConfigError";
    case ErrorKind::Checkpoint: return "CheckpointError";
    case ErrorKind::Distributed: return "DistributedError";
  }
  return "MoonlightError";
}

}  // namespace moonlight
