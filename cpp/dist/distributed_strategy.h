// The data-parallel optimizer strategies by name: what an Optimizer built for data parallelism plugs in
// (optim/distributed_step.h), on the current process group.
#pragma once

#include <cstdint>
#include <string>

#include "dist/bucketing.h"
#include "optim/distributed_step.h"

namespace moonlight::dist {

struct DistributedStrategyOptions {
  // "zero1": ZeRO-1 Muon (dist/zero1_muon.h, the Moonlight paper's Algorithm 1); "whole-matrix": each Muon
  // matrix updated whole by one owner rank (dist/whole_matrix_muon.h).
  std::string mode;
  int64_t bucketBytes = kDefaultBucketBytes;  // gradient bucket size of the collectives
};

// ConfigError naming options.distributed.mode / .bucketBytes for a bad value; DistributedError when no
// process group is initialized. The factory keeps the group current now.
optim::DistributedStepFactory distributedStepFactory(const DistributedStrategyOptions& options);

}  // namespace moonlight::dist
