// `moonlight plan`: the predicted peak memory of one process running a job on a model configuration — weights,
// gradients, optimizer state (this rank's ZeRO-1 partition), activations, KV cache — computed from the C++
// model built on the meta device (shapes only) and the optimizer and ZeRO-1 code themselves run on meta
// tensors, so parameter routing, buckets and state allocation are the ones a real run uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "models/common/model_config.h"

namespace moonlight::train {

struct MemoryPlanParts {
  int64_t weightsBytes = 0;        // every stored tensor (LoRA adapters included), in the weights' dtype
  int64_t gradientsBytes = 0;      // of the trainable tensors, plus ZeRO-1's reduce-scattered chunks
  int64_t optimizerStateBytes = 0; // this rank's momentum / moments
  int64_t optimizerStepBytes = 0;  // the update's largest transient (one Newton–Schulz batch, AdamW's temporaries)
  int64_t activationsBytes = 0;    // saved for backward at the loss head's peak, or a prefill's largest transient
  int64_t autocastCopiesBytes = 0; // bf16-mixed: the bf16 casts of the weights kept for backward
  int64_t allocatorRetentionBytes = 0;  // train: heap memory malloc keeps from a step's freed blocks (memory_plan.cpp)
  int64_t kvCacheBytes = 0;
};

struct MemoryPlan {
  MemoryPlanParts parts;
  // Above the process's RSS before the job: weights + state + gradients + max(activations + autocast
  // copies + allocator retention, step transient) + KV cache.
  int64_t peakBytes = 0;
  // Added once for the whole process: node with the addon and libtorch loaded (see memory_plan.cpp).
  int64_t runtimeBytes = 0;
  int rank = 0;
  std::vector<int64_t> optimizerStateBytesPerRank;
  int64_t parameters = 0;           // stored elements (adapters included)
  int64_t trainableParameters = 0;
  int64_t muonParameters = 0;       // elements Muon updates (the rest: AdamW)
  std::vector<std::string> assumptions;
};

// options: {task: 'generate'|'lora'|'full', optimizer, dtype, precision, worldSize, rank, batchSize, seqLen,
// promptLength, loraRank, loraAlpha, loraDropout, targetModules, bucketBytes} (src/plan/ documents each).
// ConfigError naming options.<key> for a bad value or a key that does not apply to the task.
MemoryPlan planMemory(const models::ModelConfig& config, const nlohmann::ordered_json& options);

// {peakBytes, runtimeBytes, parts: {weights, gradients, optimizerState, optimizerStep, activations,
// autocastCopies, kvCache} (bytes), assumptions: {rank, optimizerStateBytesPerRank, parameters,
// trainableParameters, muonParameters, notes}}: what `moonlight plan --json` prints.
nlohmann::ordered_json memoryPlanJson(const MemoryPlan& plan);

}  // namespace moonlight::train
