// The state of libtorch's default random generators (what torch.get_rng_state / torch.cuda.get_rng_state
// return), so a resumed run draws the same dropout masks as one that never stopped: LoRA dropout draws from
// the default generator of the activations' device.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/Device.h>

namespace moonlight {

// A uint8 CPU tensor holding the state of `device`'s default generator ('cpu' or a CUDA device).
at::Tensor defaultGeneratorState(const c10::Device& device);

// Restores a state from defaultGeneratorState of the same device kind. DTypeError for a tensor that is not a
// CPU uint8 tensor; ArgumentError for one libtorch rejects (a wrong size: another device kind's state).
void setDefaultGeneratorState(const c10::Device& device, const at::Tensor& state);

}  // namespace moonlight
