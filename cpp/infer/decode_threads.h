// How many intra-op threads a generation runs on. A decoding step is a few hundred ATen ops on one token per
// sequence; on a small model each op is microseconds of work, and splitting it over OpenMP threads costs more
// (waking a parked worker, a barrier per op) than it saves: measured on a 2-core machine with the bench
// model (14 MB of weights read per token), two threads decoded slower than one. Large models stream hundreds
// of MB of weights per token, which all cores share well. So generation uses one thread below
// kSmallModelWeightBytes of weights read per token and libtorch's default (every core) above, unless told.
#pragma once

#include <cstdint>

#include "models/common/causal_lm.h"

namespace moonlight::infer {

constexpr int64_t kSmallModelWeightBytes = 32LL << 20;

// Bytes of weights one decoded token reads: every matrix but the embedding table (one row is gathered), with
// routed experts counted at the fraction a token uses (num_experts_per_tok of n_routed_experts).
int64_t weightBytesPerToken(const models::CausalLM& model);

// 1 for models under kSmallModelWeightBytes per token, else libtorch's intra-op default.
int64_t defaultDecodeThreads(const models::CausalLM& model);

// Sets the calling thread's intra-op thread count for its lifetime and restores the previous count after.
class IntraOpThreadsScope {
 public:
  explicit IntraOpThreadsScope(int64_t threads);
  ~IntraOpThreadsScope();
  IntraOpThreadsScope(const IntraOpThreadsScope&) = delete;
  IntraOpThreadsScope& operator=(const IntraOpThreadsScope&) = delete;

 private:
  int previous_;
};

}  // namespace moonlight::infer
