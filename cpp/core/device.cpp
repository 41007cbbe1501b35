#include "core/device.h"

#include <torch/cuda.h>

#include "core/errors.h"

namespace moonlight {

bool cudaAvailable() { return torch::cuda::is_available(); }

int cudaDeviceCount() { return static_cast<int>(torch::cuda::device_count()); }

c10::Device parseDevice(const std::string& name) {
  const bool isCpu = name == "cpu";
  const bool isCuda = name == "cuda" || name.rfind("cuda:", 0) == 0;
  if (!isCpu && !isCuda) {
    fail(ErrorKind::Device, "unknown device '" + name + "'; expected 'cpu', 'cuda' or 'cuda:N'");
  }
  if (isCpu) return c10::Device(c10::DeviceType::CPU);
  int index = 0;
  if (name.size() > 5) {
    const std::string digits = name.substr(5);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 4) {
      fail(ErrorKind::Device, "invalid device '" + name + "'; expected 'cuda:N' with N a device index");
    }
    index = std::stoi(digits);
  }
  if (!cudaAvailable()) {
    fail(ErrorKind::Device, "device '" + name +
                                "' requested but CUDA is not available (this build uses a CPU libtorch or no GPU is visible)");
  }
  const int count = cudaDeviceCount();
  if (index >= count) {
    fail(ErrorKind::Device, "device '" + name + "' does not exist; " + std::to_string(count) + " CUDA device(s) visible");
  }
  return c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(index));
}

std::string deviceName(const c10::Device& device) {
  if (device.is_cpu()) return "cpu";
  if (device.is_cuda()) return "cuda:" + std::to_string(device.has_index() ? device.index() : 0);
  return device.str();
}

}  // namespace moonlight
