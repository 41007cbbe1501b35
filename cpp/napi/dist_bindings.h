// What the optimizer bindings need from the distributed ones: the ZeRO-1 / whole-matrix step factory for
// an OptimizerHandle built with options.distributed.
#pragma once

#include <napi.h>

#include "optim/distributed_step.h"

namespace moonlight::napi {

// options.distributed = {mode: 'zero1' | 'whole-matrix', bucketBytes?}; nullptr when absent. Needs an
// initialized process group (DistributedError otherwise).
optim::DistributedStepFactory distributedStepFactory(const Napi::Value& options);

}  // namespace moonlight::napi
