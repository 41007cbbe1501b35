#include "dist/zero1_partition.h"

namespace moonlight::dist {

std::vector<std::optional<Zero1Piece>> zero1Pieces(const std::vector<Bucket>& buckets,
                                                   const std::vector<optim::ParameterState>& params, int rank,
                                                   int worldSize) {
  std::vector<std::optional<Zero1Piece>> pieces(params.size());
  for (size_t b = 0; b < buckets.size(); ++b) {
    for (const BucketSlot& slot : buckets[b].slots) {
      auto range = ownedRange(buckets[b], slot, rank, worldSize);
      if (!range) continue;
      const optim::ParameterState& param = params[slot.param];
      optim::ParameterState state;
      state.name = param.name;
      state.group = param.group;
      state.param = param.param.view({-1}).narrow(0, range->first, range->numel());
      optim::allocateState(state, buckets[b].kind);
      state.param = at::Tensor();
      pieces[slot.param] = Zero1Piece{b, *range, std::move(state)};
    }
  }
  return pieces;
}

int64_t zero1StateBytes(const std::vector<std::optional<Zero1Piece>>& pieces) {
  int64_t total = 0;
  for (const auto& piece : pieces) {
    if (piece) total += optim::stateBytes({piece->state});
  }
  return total;
}

}  // namespace moonlight::dist
