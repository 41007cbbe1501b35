// Collectives for callers that keep their input (scripts, tests, the JS `distributed` API): each works on a
// contiguous copy and returns a new tensor with the result.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <ATen/ATen.h>

#include "dist/process_group.h"

namespace moonlight::dist {

enum class CollectiveKind { AllReduce, AllGather, ReduceScatter, Broadcast };

// "allReduce" | "allGather" | "reduceScatter" | "broadcast"; ArgumentError otherwise.
CollectiveKind parseCollectiveKind(const std::string& name);
// "sum" | "avg"; ArgumentError naming `op` otherwise.
ReduceOp parseReduceOp(const std::string& name);

struct CollectiveRequest {
  CollectiveKind kind = CollectiveKind::AllReduce;
  ReduceOp op = ReduceOp::Sum;  // allReduce, reduceScatter
  int root = 0;                 // broadcast
};

// Checks the input now (reduceScatter: the first dimension is the world size) and returns the collective as a
// job to run off the caller's thread: allReduce and broadcast keep the input's shape, allGather stacks the
// ranks' tensors into [W, ...shape], reduceScatter returns this rank's row of the reduced [W, ...] input.
std::function<at::Tensor()> collectiveOnCopy(std::shared_ptr<ProcessGroup> group, const at::Tensor& input,
                                             const CollectiveRequest& request);

}  // namespace moonlight::dist
