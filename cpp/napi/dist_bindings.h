// What the optimizer bindings need from the distributed ones: the ZeRO-1 / whole-matrix step factory for
// an OptimizerHandle built with options.distributed.
#pragma once

#include <napi.h>

#include "optim/distributed_step.h"

namespace moonlight::napi {

// options.distributed = {mode: 'zero1' | 'whole-matrix', bucketBytes?} read into
// dist::distributedStepFactory (dist/distributed_strategy.h); nullptr when absent.
optim::DistributedStepFactory distributedStepFactory(const Napi::Value& options);

}  // namespace moonlight::napi
