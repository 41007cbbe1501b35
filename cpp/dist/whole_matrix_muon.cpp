#include "dist/whole_matrix_muon.h"

#include <algorithm>
#include <numeric>

#include "core/errors.h"
#include "optim/adamw.h"
#include "optim/muon.h"

namespace moonlight::dist {

using optim::OptimizerKind;
using optim::ParameterState;

std::vector<int> assignOwners(const std::vector<ParameterState>& params, const std::vector<optim::ParamGroupConfig>& groups,
                              int worldSize) {
  std::vector<double> cost(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const at::Tensor& param = params[i].param;
    if (groups[params[i].group].kind == OptimizerKind::Muon && param.dim() >= 2) {
      const double rows = static_cast<double>(param.size(-2));
      const double cols = static_cast<double>(param.size(-1));
      const double matrices = static_cast<double>(param.numel()) / std::max(1.0, rows * cols);
      cost[i] = matrices * rows * cols * std::min(rows, cols);
    } else {
      cost[i] = static_cast<double>(param.numel());
    }
  }
  std::vector<size_t> order(params.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return cost[a] > cost[b]; });
  std::vector<double> load(static_cast<size_t>(worldSize), 0.0);
  std::vector<int> owners(params.size(), 0);
  for (size_t i : order) {
    const auto lightest = std::min_element(load.begin(), load.end());
    owners[i] = static_cast<int>(lightest - load.begin());
    *lightest += cost[i];
  }
  return owners;
}

WholeMatrixStep::WholeMatrixStep(std::shared_ptr<ProcessGroup> group, const std::vector<ParameterState>& params,
                                 const std::vector<optim::ParamGroupConfig>& groups, int64_t bucketBytes)
    : group_(std::move(group)),
      buckets_(makeBuckets(params, groups, group_->worldSize(), bucketBytes)),
      owners_(assignOwners(params, groups, group_->worldSize())),
      owned_(params) {
  for (size_t i = 0; i < params.size(); ++i) {
    if (owners_[i] == group_->rank()) optim::allocateState(owned_[i], groups[params[i].group].kind);
  }
}

optim::GradientNorm WholeMatrixStep::reduceGradients(const std::vector<ParameterState>& params,
                                                     const std::vector<optim::ParamGroupConfig>&,
                                                     std::optional<double> maxNorm) {
  averagedGrads_.assign(params.size(), at::Tensor());
  std::vector<at::Tensor> all;
  for (const Bucket& bucket : buckets_) {
    at::Tensor flat = flattenGradients(bucket, params);
    group_->allReduce(flat, ReduceOp::Avg);
    for (const BucketSlot& slot : bucket.slots) {
      averagedGrads_[slot.param] = flat.narrow(0, slot.offset, slot.numel).view(params[slot.param].param.sizes());
    }
    all.push_back(flat);
  }
  // Every rank holds all averaged gradients: the norm needs no further communication.
  return globalNorm(*group_, all, maxNorm, /*partsAreDisjoint=*/false);
}

void WholeMatrixStep::step(const std::vector<ParameterState>& params, const std::vector<optim::ParamGroupConfig>& groups) {
  if (averagedGrads_.size() != params.size()) fail(ErrorKind::Distributed, "step() before the gradients were reduced");
  std::vector<optim::MuonTask> muonTasks;
  for (size_t i = 0; i < params.size(); ++i) {
    if (owners_[i] != group_->rank()) continue;
    ParameterState& state = owned_[i];
    state.param = params[i].param;
    const optim::ParamGroupConfig& config = groups[state.group];
    if (config.kind == OptimizerKind::AdamW) {
      optim::adamwStep(state, config, averagedGrads_[i]);
    } else {
      muonTasks.push_back({&state, &config, state.group, averagedGrads_[i]});
    }
  }
  if (!muonTasks.empty()) optim::muonStep(muonTasks);
  for (size_t i = 0; i < params.size(); ++i) {
    if (owners_[i] != group_->rank() && groups[params[i].group].kind == OptimizerKind::AdamW) ++owned_[i].steps;
  }
  averagedGrads_.clear();
  // Owners send their parameters: one broadcast per (bucket, owner) of that owner's parameters in the bucket.
  for (const Bucket& bucket : buckets_) {
    for (int owner = 0; owner < group_->worldSize(); ++owner) {
      std::vector<at::Tensor> mine;
      for (const BucketSlot& slot : bucket.slots) {
        if (owners_[slot.param] == owner) mine.push_back(params[slot.param].param.view({-1}));
      }
      if (mine.empty()) continue;
      at::Tensor flat = at::cat(mine);
      group_->broadcast(flat, owner);
      if (owner == group_->rank()) continue;
      int64_t offset = 0;
      for (const at::Tensor& param : mine) {
        param.copy_(flat.narrow(0, offset, param.numel()));
        offset += param.numel();
      }
    }
  }
}

int64_t WholeMatrixStep::stateBytes() const { return optim::stateBytes(owned_); }

optim::NamedTensors WholeMatrixStep::localState(const std::vector<ParameterState>& params) const {
  optim::NamedTensors state;
  for (size_t i = 0; i < params.size(); ++i) {
    if (owners_[i] != group_->rank()) continue;
    optim::exportShard(state, params[i].name, owned_[i], owned_[i].steps, 0, params[i].param.numel());
  }
  return state;
}

std::vector<ParameterState> WholeMatrixStep::gatherFullState(const std::vector<ParameterState>& params,
                                                             const std::vector<optim::ParamGroupConfig>& groups) {
  // The owner contributes the values, everyone else zeros.
  return gatherStateParts(
      *group_, params, groups, [&](size_t i) { return owned_[i].steps; },
      [&](size_t i, at::Tensor ParameterState::*buffer, at::Tensor& full) {
        if (owners_[i] == group_->rank()) full.copy_(owned_[i].*buffer);
      });
}

void WholeMatrixStep::scatterFullState(const std::vector<ParameterState>& full) {
  for (size_t i = 0; i < full.size(); ++i) {
    owned_[i].steps = full[i].steps;
    if (owners_[i] != group_->rank()) continue;
    if (owned_[i].momentumBuffer.defined()) owned_[i].momentumBuffer.copy_(full[i].momentumBuffer);
    if (owned_[i].expAvg.defined()) {
      owned_[i].expAvg.copy_(full[i].expAvg);
      owned_[i].expAvgSq.copy_(full[i].expAvgSq);
    }
  }
}

}  // namespace moonlight::dist
