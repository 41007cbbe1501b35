// Gradient buckets for data parallelism: parameters packed, in order, into flat buffers of about
// `bucketBytes` (DDP's 25 MB), so a step runs one collective per bucket instead of one per tensor. A bucket
// holds one optimizer kind (Muon matrices and AdamW parameters apart, so gathering Muon updates moves no
// AdamW data), one dtype and one device, and is padded to a multiple of the world size: rank r owns the
// contiguous chunk [r·n/W, (r+1)·n/W) of every bucket (ZeRO-1's partition, as Megatron's distributed
// optimizer lays it out).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include <ATen/ATen.h>

#include "dist/process_group.h"
#include "optim/optimizer_config.h"
#include "optim/distributed_step.h"
#include "optim/optimizer_state.h"

namespace moonlight::dist {

constexpr int64_t kDefaultBucketBytes = 25 * 1024 * 1024;

struct BucketSlot {
  size_t param;    // index into the optimizer's parameters
  int64_t offset;  // first element in the bucket
  int64_t numel;
};

struct Bucket {
  optim::OptimizerKind kind;
  c10::ScalarType dtype;
  c10::Device device{c10::kCPU};
  std::vector<BucketSlot> slots;
  int64_t paddedNumel = 0;  // multiple of the world size
};

// The part of one parameter that a rank owns: elements [first, end) of the flattened parameter, at
// `shardOffset` in that rank's chunk of the bucket.
struct OwnedRange {
  int64_t first = 0;
  int64_t end = 0;
  int64_t shardOffset = 0;
  int64_t numel() const { return end - first; }
};

// Parameters must be contiguous (they are viewed flat); ConfigError otherwise.
std::vector<Bucket> makeBuckets(const std::vector<optim::ParameterState>& params,
                                const std::vector<optim::ParamGroupConfig>& groups, int worldSize, int64_t bucketBytes);

std::optional<OwnedRange> ownedRange(const Bucket& bucket, const BucketSlot& slot, int rank, int worldSize);

// The bucket's gradients as one padded flat tensor (a missing gradient is zeros).
at::Tensor flattenGradients(const Bucket& bucket, const std::vector<optim::ParameterState>& params);

// Sums `tensors` over the ranks in place with one all-reduce of their concatenation.
void sumOverRanks(ProcessGroup& group, const std::vector<at::Tensor>& tensors);

// Collective. The whole state from the parts the ranks own: per parameter, zero buffers of its group's kind
// (steps: steps(i)); writePart(i, buffer, full) copies this rank's part of the buffer `buffer` into `full`,
// then one sum over the ranks completes every buffer (each element is owned by exactly one rank).
using WritePart = std::function<void(size_t, at::Tensor optim::ParameterState::*, at::Tensor&)>;
std::vector<optim::ParameterState> gatherStateParts(ProcessGroup& group, const std::vector<optim::ParameterState>& params,
                                                    const std::vector<optim::ParamGroupConfig>& groups,
                                                    const std::function<int64_t(size_t)>& steps, const WritePart& writePart);

// The global L2 norm from each rank's disjoint part of the averaged gradients (one scalar all-reduce), and
// the clip coefficient min(1, maxNorm / (norm + 1e-6)) of torch's clip_grad_norm_.
optim::GradientNorm globalNorm(ProcessGroup& group, const std::vector<at::Tensor>& localParts,
                               std::optional<double> maxNorm, bool partsAreDisjoint);

}  // namespace moonlight::dist
