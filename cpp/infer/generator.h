// Autoregressive generation with a KV cache: one prefill of the (left-padded) prompts, then one cached
// decoding step per new token, greedy or sampled, until every sequence hit a stop token or maxNewTokens.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "infer/generation_control.h"
#include "infer/sampling.h"
#include "models/common/causal_lm.h"

namespace moonlight::infer {

struct GenerateOptions {
  int64_t maxNewTokens = 32;
  SamplingOptions sampling;
  uint64_t seed = 0;
  std::vector<int64_t> stopTokenIds;
  bool returnLogits = false;  // keep every step's next-token logits (tests, scoring)
  int64_t threads = 0;        // intra-op threads; 0: defaultDecodeThreads (infer/decode_threads.h)
};

struct GenerateResult {
  std::vector<std::vector<int64_t>> tokens;  // per sequence, the new tokens (a stop token included)
  std::vector<std::string> finishReasons;    // "stop" | "length" | "cancelled"
  at::Tensor stepLogits;                     // [steps, B, V] fp32 CPU when returnLogits
  int64_t cacheBytes = 0;                    // the KV cache's allocated bytes
  int64_t cacheCapacity = 0;                 // positions it was allocated for
  double prefillSeconds = 0, decodeSeconds = 0;
  int64_t threads = 0;                       // intra-op threads it ran on
};

// Called after each step with that step's token per sequence; emitted[b] is false for sequences that had
// already finished (their slot holds filler).
using TokenCallback = std::function<void(const std::vector<int64_t>& tokens, const std::vector<bool>& emitted)>;

// inputIds [B, T] integer; attentionMask [B, T] (1 = token, 0 = left padding) or undefined.
// `control`, when given, is read once per step: a cancel ends the loop ("cancelled" for the unfinished
// sequences), a stop request ends that sequence ("stop") as a stop token would.
GenerateResult generate(const models::CausalLM& model, const at::Tensor& inputIds, const at::Tensor& attentionMask,
                        const GenerateOptions& options, const TokenCallback& onTokens = {},
                        const GenerationControl* control = nullptr);

}  // namespace moonlight::infer
