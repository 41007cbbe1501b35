// The data-parallel optimizer strategies: what an Optimizer built with options.distributed plugs in
// (optim/distributed_step.h), on the current process group.
#pragma once

#include "optim/distributed_step.h"
#include "optim/optimizer_options.h"

namespace moonlight::dist {

// Zero1: ZeRO-1 Muon (dist/zero1_muon.h, the Moonlight paper's Algorithm 1); WholeMatrix: each Muon matrix
// updated whole by one owner rank (dist/whole_matrix_muon.h). Gradient buckets of options.bucketBytes
// (kDefaultBucketBytes unset). DistributedError when no process group is initialized; the factory keeps the
// group current now.
optim::DistributedStepFactory distributedStepFactory(const optim::DistributedOptions& options);

}  // namespace moonlight::dist
