// Picking the next token from logits: greedy (argmax) or sampling with temperature, top-k and top-p
// (nucleus) filtering, from a seeded generator so that a seed reproduces the same tokens.
#pragma once

#include <cstdint>

#include <ATen/ATen.h>

namespace moonlight::infer {

struct SamplingOptions {
  double temperature = 0;  // 0: greedy
  int64_t topK = 0;        // 0: off
  double topP = 1;         // 1: off
};

// logits [B, V] (any float dtype/device) → token ids [B] (int64, CPU).
at::Tensor pickTokens(const at::Tensor& logits, const SamplingOptions& options, at::Generator& generator);

}  // namespace moonlight::infer
