#include "dist/bucketing.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"

namespace moonlight::dist {

std::vector<Bucket> makeBuckets(const std::vector<optim::ParameterState>& params,
                                const std::vector<optim::ParamGroupConfig>& groups, int worldSize, int64_t bucketBytes) {
  std::vector<Bucket> buckets;
  // The open bucket of each (kind, dtype, device), so interleaved Muon/AdamW parameters still fill buckets.
  std::vector<size_t> open;
  auto finish = [&](Bucket& bucket) {
    int64_t used = bucket.slots.empty() ? 0 : bucket.slots.back().offset + bucket.slots.back().numel;
    bucket.paddedNumel = (used + worldSize - 1) / worldSize * worldSize;
  };
  for (size_t i = 0; i < params.size(); ++i) {
    const at::Tensor& param = params[i].param;
    if (!param.is_contiguous()) {
      fail(ErrorKind::Config, "parameter '" + params[i].name + "' is not contiguous; data parallelism views parameters flat");
    }
    const optim::OptimizerKind kind = groups[params[i].group].kind;
    Bucket* target = nullptr;
    for (size_t index : open) {
      Bucket& bucket = buckets[index];
      if (bucket.kind == kind && bucket.dtype == param.scalar_type() && bucket.device == param.device()) target = &bucket;
    }
    const int64_t bytes = param.numel() * static_cast<int64_t>(param.element_size());
    if (target != nullptr) {
      const BucketSlot& last = target->slots.back();
      const int64_t usedBytes = (last.offset + last.numel) * static_cast<int64_t>(param.element_size());
      if (usedBytes + bytes > bucketBytes) {
        open.erase(std::find(open.begin(), open.end(), static_cast<size_t>(target - buckets.data())));
        target = nullptr;
      }
    }
    if (target == nullptr) {
      buckets.push_back({kind, param.scalar_type(), param.device(), {}, 0});
      open.push_back(buckets.size() - 1);
      target = &buckets.back();
    }
    const int64_t offset = target->slots.empty() ? 0 : target->slots.back().offset + target->slots.back().numel;
    target->slots.push_back({i, offset, param.numel()});
  }
  for (Bucket& bucket : buckets) finish(bucket);
  return buckets;
}

std::optional<OwnedRange> ownedRange(const Bucket& bucket, const BucketSlot& slot, int rank, int worldSize) {
  const int64_t chunk = bucket.paddedNumel / worldSize;
  const int64_t chunkFirst = chunk * rank;
  const int64_t first = std::max(slot.offset, chunkFirst);
  const int64_t end = std::min(slot.offset + slot.numel, chunkFirst + chunk);
  if (first >= end) return std::nullopt;
  return OwnedRange{first - slot.offset, end - slot.offset, first - chunkFirst};
}

at::Tensor flattenGradients(const Bucket& bucket, const std::vector<optim::ParameterState>& params) {
  at::Tensor flat = at::zeros({bucket.paddedNumel}, at::TensorOptions().dtype(bucket.dtype).device(bucket.device));
  for (const BucketSlot& slot : bucket.slots) {
    const at::Tensor grad = params[slot.param].param.grad();
    if (grad.defined()) flat.narrow(0, slot.offset, slot.numel).copy_(grad.reshape({-1}));
  }
  return flat;
}

void sumOverRanks(ProcessGroup& group, const std::vector<at::Tensor>& tensors) {
  if (tensors.empty()) return;
  std::vector<at::Tensor> flats;
  flats.reserve(tensors.size());
  for (const at::Tensor& tensor : tensors) flats.push_back(tensor.reshape({-1}));
  at::Tensor all = at::cat(flats);
  group.allReduce(all, ReduceOp::Sum);
  int64_t offset = 0;
  for (const at::Tensor& tensor : tensors) {
    tensor.copy_(all.narrow(0, offset, tensor.numel()).view(tensor.sizes()));
    offset += tensor.numel();
  }
}

optim::GradientNorm globalNorm(ProcessGroup& group, const std::vector<at::Tensor>& localParts,
                               std::optional<double> maxNorm, bool partsAreDisjoint) {
  at::Tensor squares = at::zeros({1}, at::kDouble);
  for (const at::Tensor& part : localParts) squares += part.to(at::kDouble).square().sum().to(at::kCPU);
  if (partsAreDisjoint) group.allReduce(squares, ReduceOp::Sum);
  optim::GradientNorm result;
  result.norm = std::sqrt(squares.item<double>());
  if (maxNorm) result.coefficient = std::min(1.0, *maxNorm / (result.norm + 1e-6));
  if (result.coefficient < 1.0) {
    for (const at::Tensor& part : localParts) part.mul_(result.coefficient);
  }
  return result;
}

std::vector<optim::ParameterState> gatherStateParts(ProcessGroup& group, const std::vector<optim::ParameterState>& params,
                                                    const std::vector<optim::ParamGroupConfig>& groups,
                                                    const std::function<int64_t(size_t)>& steps, const WritePart& writePart) {
  std::vector<optim::ParameterState> full = params;
  std::vector<at::Tensor> buffers;
  for (size_t i = 0; i < full.size(); ++i) {
    optim::allocateState(full[i], groups[full[i].group].kind);
    full[i].steps = steps(i);
    for (at::Tensor optim::ParameterState::*buffer :
         {&optim::ParameterState::momentumBuffer, &optim::ParameterState::expAvg, &optim::ParameterState::expAvgSq}) {
      if (!(full[i].*buffer).defined()) continue;
      writePart(i, buffer, full[i].*buffer);
      buffers.push_back(full[i].*buffer);
    }
  }
  sumOverRanks(group, buffers);
  return full;
}

}  // namespace moonlight::dist
