#include "core/rng_state.h"

#include <mutex>
#include <string>

#include <ATen/Context.h>

#include "core/errors.h"

namespace moonlight {

namespace {

at::Generator defaultGenerator(const c10::Device& device) {
  if (device.is_cpu()) return at::detail::getDefaultCPUGenerator();
  if (device.is_cuda()) return at::globalContext().defaultGenerator(device);
  fail(ErrorKind::Device, "random generator state is kept for 'cpu' and 'cuda' devices, not '" + device.str() + "'");
}

}  // namespace

at::Tensor defaultGeneratorState(const c10::Device& device) {
  at::Generator generator = defaultGenerator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void setDefaultGeneratorState(const c10::Device& device, const at::Tensor& state) {
  if (!state.defined() || state.scalar_type() != at::kByte || !state.device().is_cpu()) {
    fail(ErrorKind::DType, "state must be a uint8 CPU tensor from rngState()");
  }
  at::Generator generator = defaultGenerator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  try {
    generator.set_state(state.contiguous());
  } catch (const c10::Error& error) {
    fail(ErrorKind::Argument, std::string("state is not a generator state of this device: ") + error.what_without_backtrace());
  }
}

}  // namespace moonlight
