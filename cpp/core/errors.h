// Typed failures of the core. cpp/napi turns each kind into the JS error class of the same name
// (src/errors.ts); anything else libtorch throws (c10::Error) becomes a TorchError there.
#pragma once

#include <stdexcept>
#include <string>

namespace moonlight {

enum class ErrorKind { Argument, Shape, DType, Device, Disposed, Config, Checkpoint, Distributed };

const char* errorClassName(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

[[noreturn]] inline void fail(ErrorKind kind, const std::string& message) { throw Error(kind, message); }

}  // namespace moonlight
