// Whole-matrix ownership (the alternative to the paper's ZeRO-1 Muon, arXiv:2502.16982 §2.3): each parameter belongs
// to one rank, chosen greedily so that ranks get about equal Newton–Schulz work (cost ≈ E·A·B·min(A, B)
// for an [E, A, B] stack; AdamW parameters cost their size). Gradients are all-reduced bucket-wise; the
// owner runs the single-process update (muonStep / adamwStep, batched NS included) with its state, which
// only it keeps; then each owner broadcasts its parameters, one broadcast per (bucket, owner).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "dist/bucketing.h"
#include "dist/process_group.h"
#include "optim/distributed_step.h"

namespace moonlight::dist {

class WholeMatrixStep : public optim::DistributedStep {
 public:
  WholeMatrixStep(std::shared_ptr<ProcessGroup> group, const std::vector<optim::ParameterState>& params,
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

  const std::vector<int>& owners() const { return owners_; }

 private:
  std::shared_ptr<ProcessGroup> group_;
  std::vector<Bucket> buckets_;
  std::vector<int> owners_;                   // by parameter index
  std::vector<optim::ParameterState> owned_;  // by parameter index; buffers only where this rank owns it
  std::vector<at::Tensor> averagedGrads_;     // by parameter index, after reduceGradients
};

// Greedy longest-processing-time assignment of parameters to ranks by Newton–Schulz cost.
std::vector<int> assignOwners(const std::vector<optim::ParameterState>& params,
                              const std::vector<optim::ParamGroupConfig>& groups, int worldSize);

}  // namespace moonlight::dist
