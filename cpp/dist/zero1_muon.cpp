#include "dist/zero1_muon.h"

#include "core/errors.h"
#include "optim/adamw.h"
#include "optim/muon.h"

namespace moonlight::dist {

using optim::OptimizerKind;
using optim::ParameterState;

namespace {

// The Newton–Schulz dtype of every matrix in a Muon bucket, when they share one.
std::optional<c10::ScalarType> sharedNsDtype(const Bucket& bucket, const std::vector<ParameterState>& params,
                                             const std::vector<optim::ParamGroupConfig>& groups) {
  std::optional<c10::ScalarType> shared;
  for (const BucketSlot& slot : bucket.slots) {
    const c10::ScalarType dtype = groups[params[slot.param].group].muon.newtonSchulz.dtype;
    if (shared && *shared != dtype) return std::nullopt;
    shared = dtype;
  }
  return shared;
}

at::Tensor flatView(const at::Tensor& tensor, const OwnedRange& range) {
  return tensor.view({-1}).narrow(0, range.first, range.numel());
}

}  // namespace

Zero1Step::Zero1Step(std::shared_ptr<ProcessGroup> group, const std::vector<ParameterState>& params,
                     const std::vector<optim::ParamGroupConfig>& groups, int64_t bucketBytes)
    : group_(std::move(group)),
      buckets_(makeBuckets(params, groups, group_->worldSize(), bucketBytes)),
      adamwSteps_(params.size(), 0) {
  pieces_ = zero1Pieces(buckets_, params, group_->rank(), group_->worldSize());
}

optim::GradientNorm Zero1Step::reduceGradients(const std::vector<ParameterState>& params,
                                               const std::vector<optim::ParamGroupConfig>&,
                                               std::optional<double> maxNorm) {
  gradientChunks_.clear();
  for (const Bucket& bucket : buckets_) {
    at::Tensor flat = flattenGradients(bucket, params);
    at::Tensor chunk = at::empty({bucket.paddedNumel / group_->worldSize()}, flat.options());
    group_->reduceScatter(chunk, flat, ReduceOp::Avg);
    gradientChunks_.push_back(chunk);
  }
  // The chunks are disjoint (padding is zeros), so the squared norms add up over ranks.
  return globalNorm(*group_, gradientChunks_, maxNorm, /*partsAreDisjoint=*/true);
}

void Zero1Step::step(const std::vector<ParameterState>& params, const std::vector<optim::ParamGroupConfig>& groups) {
  if (gradientChunks_.size() != buckets_.size()) fail(ErrorKind::Distributed, "step() before the gradients were reduced");
  const int worldSize = group_->worldSize();
  for (size_t b = 0; b < buckets_.size(); ++b) {
    const Bucket& bucket = buckets_[b];
    const at::Tensor& gradChunk = gradientChunks_[b];
    if (bucket.kind == OptimizerKind::AdamW) {
      for (const BucketSlot& slot : bucket.slots) {
        ++adamwSteps_[slot.param];  // every rank counts, so the count survives a change of world size
        if (!pieces_[slot.param]) continue;
        Piece& piece = *pieces_[slot.param];
        piece.state.param = flatView(params[slot.param].param, piece.range);
        piece.state.steps = adamwSteps_[slot.param] - 1;
        optim::adamwStep(piece.state, groups[piece.state.group], gradChunk.narrow(0, piece.range.shardOffset, piece.range.numel()));
        piece.state.param = at::Tensor();
      }
      continue;
    }
    // Muon: momentum on the owned pieces, then the full G + μM of every matrix by one all-gather.
    at::Tensor updateChunk = at::zeros_like(gradChunk);
    for (const BucketSlot& slot : bucket.slots) {
      if (!pieces_[slot.param]) continue;
      Piece& piece = *pieces_[slot.param];
      const at::Tensor grad = gradChunk.narrow(0, piece.range.shardOffset, piece.range.numel());
      at::Tensor update = optim::applyMomentum(piece.state.momentumBuffer, grad, groups[piece.state.group].muon);
      updateChunk.narrow(0, piece.range.shardOffset, piece.range.numel()).copy_(update);
    }
    // Newton–Schulz casts its input to its own dtype before anything else, so gathering G + μM already cast
    // (bf16 by default) hands it the very same input for half the bytes: the paper's 1–1.25× of ZeRO-1
    // AdamW's traffic instead of 1.5×.
    at::Tensor sendChunk = updateChunk;
    if (std::optional<c10::ScalarType> nsDtype = sharedNsDtype(bucket, params, groups);
        nsDtype && c10::elementSize(*nsDtype) < updateChunk.element_size()) {
      sendChunk = updateChunk.to(*nsDtype);
    }
    at::Tensor fullUpdates = at::empty({bucket.paddedNumel}, sendChunk.options());
    group_->allGather(fullUpdates, sendChunk);
    for (const BucketSlot& slot : bucket.slots) {
      if (!pieces_[slot.param] || slot.numel == 0) continue;  // no part of this matrix lives here
      const Piece& piece = *pieces_[slot.param];
      const at::Tensor& param = params[slot.param].param;
      const optim::ParamGroupConfig& config = groups[piece.state.group];
      at::Tensor update = fullUpdates.narrow(0, slot.offset, slot.numel).view(param.sizes());
      at::Tensor orthogonal = optim::orthogonalize(update, config.muon.newtonSchulz);
      optim::applyOrthogonalUpdate(flatView(param, piece.range), flatView(orthogonal.contiguous(), piece.range), config,
                                   param.size(-2), param.size(-1));
    }
  }
  (void)worldSize;
  gradientChunks_.clear();
  gatherParameters(params);
}

void Zero1Step::gatherParameters(const std::vector<ParameterState>& params) {
  for (const Bucket& bucket : buckets_) {
    at::Tensor chunk = at::zeros({bucket.paddedNumel / group_->worldSize()},
                                 at::TensorOptions().dtype(bucket.dtype).device(bucket.device));
    for (const BucketSlot& slot : bucket.slots) {
      if (!pieces_[slot.param]) continue;
      const OwnedRange& range = pieces_[slot.param]->range;
      chunk.narrow(0, range.shardOffset, range.numel()).copy_(flatView(params[slot.param].param, range));
    }
    at::Tensor full = at::empty({bucket.paddedNumel}, chunk.options());
    group_->allGather(full, chunk);
    for (const BucketSlot& slot : bucket.slots) {
      params[slot.param].param.view({-1}).copy_(full.narrow(0, slot.offset, slot.numel));
    }
  }
}

int64_t Zero1Step::stateBytes() const { return zero1StateBytes(pieces_); }

optim::NamedTensors Zero1Step::localState(const std::vector<ParameterState>& params) const {
  optim::NamedTensors state;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!pieces_[i]) continue;
    const Piece& piece = *pieces_[i];
    optim::exportShard(state, params[i].name, piece.state, adamwSteps_[i], piece.range.first, piece.range.end);
  }
  return state;
}

std::vector<ParameterState> Zero1Step::gatherFullState(const std::vector<ParameterState>& params,
                                                       const std::vector<optim::ParamGroupConfig>& groups) {
  return gatherStateParts(
      *group_, params, groups, [&](size_t i) { return adamwSteps_[i]; },
      [&](size_t i, at::Tensor ParameterState::*buffer, at::Tensor& full) {
        if (pieces_[i]) flatView(full, pieces_[i]->range).copy_(pieces_[i]->state.*buffer);
      });
}

void Zero1Step::scatterFullState(const std::vector<ParameterState>& full) {
  for (size_t i = 0; i < full.size(); ++i) {
    adamwSteps_[i] = full[i].steps;
    if (!pieces_[i]) continue;
    Piece& piece = *pieces_[i];
    if (piece.state.momentumBuffer.defined()) piece.state.momentumBuffer.copy_(flatView(full[i].momentumBuffer, piece.range));
    if (piece.state.expAvg.defined()) {
      piece.state.expAvg.copy_(flatView(full[i].expAvg, piece.range));
      piece.state.expAvgSq.copy_(flatView(full[i].expAvgSq, piece.range));
    }
  }
}

}  // namespace moonlight::dist
