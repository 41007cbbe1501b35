// ZeRO-1's partition of the optimizer state: which piece of each parameter a rank owns (rank r owns chunk r of
// every gradient bucket, dist/bucketing.h) and that piece's state, allocated as a single-process optimizer
// allocates it but on the piece only. Zero1Step keeps these pieces; a memory plan builds them on meta
// tensors, so its per-rank state bytes are the ones a real run allocates.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "dist/bucketing.h"
#include "optim/optimizer_config.h"
#include "optim/optimizer_state.h"

namespace moonlight::dist {

// This rank's piece of one parameter and the state of that piece (buffers of piece size; `param` unset).
struct Zero1Piece {
  size_t bucket;
  OwnedRange range;
  optim::ParameterState state;
};

// By parameter index: the piece `rank` owns (none where its chunks hold no element of the parameter).
std::vector<std::optional<Zero1Piece>> zero1Pieces(const std::vector<Bucket>& buckets,
                                                   const std::vector<optim::ParameterState>& params, int rank,
                                                   int worldSize);

// Bytes of the pieces' buffers (momentum, moments).
int64_t zero1StateBytes(const std::vector<std::optional<Zero1Piece>>& pieces);

}  // namespace moonlight::dist
