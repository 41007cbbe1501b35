// Device strings of the JS API: 'cpu', 'cuda', 'cuda:N'.
#pragma once

#include <string>

#include <c10/core/Device.h>

namespace moonlight {

// Parses and checks that the device exists on this machine (a CUDA device needs a CUDA libtorch and a GPU).
c10::Device parseDevice(const std::string& name);
std::string deviceName(const c10::Device& device);
bool cudaAvailable();
int cudaDeviceCount();

}  // namespace moonlight
