// ZeRO-1 Muon, the Moonlight paper's Algorithm 1, with plain ZeRO-1 AdamW for the other parameters:
// the optimizer state is partitioned over the data-parallel ranks (rank r owns chunk r of every gradient
// bucket, dist/bucketing.h). Per step: reduce-scatter the gradients bucket-wise (each rank receives the
// average of its chunk); AdamW pieces update locally; for Muon, each rank applies momentum to its pieces,
// one all-gather per Muon bucket rebuilds the full momentum-applied gradient G + μM of every matrix,
// Newton–Schulz runs on each full matrix that this rank owns part of, and only that part of the update is
// applied; finally one all-gather per bucket gives every rank the updated parameters.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "dist/bucketing.h"
#include "dist/process_group.h"
#include "dist/zero1_partition.h"
#include "optim/distributed_step.h"

namespace moonlight::dist {

class Zero1Step : public optim::DistributedStep {
 public:
  Zero1Step(std::shared_ptr<ProcessGroup> group, const std::vector<optim::ParameterState>& params,
            const std::vector<optim::ParamGroupConfig>& groups, int64_t bucketBytes = kDefaultBucketBytes);

  optim::GradientNorm reduceGradients(const std::vector<optim::ParameterState>& params,
                                      const std::vector<optim::ParamGroupConfig>& groups,
                                      std::optional<double> maxNorm) override;
  void step(const std::vector<optim::ParameterState>& params, const std::vector<optim::ParamGroupConfig>& groups) override;
  int64_t stateBytes() const override;
  optim::NamedTensors localState(const std::vector<optim::ParameterState>& params) const override;
  std::vector<optim::ParameterState> gatherFullState(const std::vector<optim::ParameterState>& params,
                                                     const std::vector<optim::ParamGroupConfig>& groups) override;
  void scatterFullState(const std::vector<optim::ParameterState>& full) override;

 private:
  using Piece = Zero1Piece;

  void gatherParameters(const std::vector<optim::ParameterState>& params);

  std::shared_ptr<ProcessGroup> group_;
  std::vector<Bucket> buckets_;
  std::vector<std::optional<Piece>> pieces_;  // by parameter index
  std::vector<int64_t> adamwSteps_;           // by parameter index, kept on every rank
  std::vector<at::Tensor> gradientChunks_;    // by bucket: this rank's averaged gradient chunk
};

}  // namespace moonlight::dist
