// Requests from the JS thread to a generation running on a worker thread: cancel it (an AbortSignal, a
// stream the caller stopped reading), or end one sequence whose stop string JS found — stop strings need
// the tokenizer, which lives in JS. The loop reads both once per step, so a request costs at most one more
// step of work.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "core/errors.h"

namespace moonlight::infer {

class GenerationControl {
 public:
  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

  // ArgumentError for a negative index.
  void stopSequence(int64_t sequence) {
    if (sequence < 0) fail(ErrorKind::Argument, "sequence must be ≥ 0");
    std::lock_guard<std::mutex> lock(mutex_);
    if (sequence >= static_cast<int64_t>(stopRequested_.size())) stopRequested_.resize(sequence + 1, false);
    stopRequested_[sequence] = true;
  }

  bool stopRequested(int64_t sequence) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return sequence < static_cast<int64_t>(stopRequested_.size()) && stopRequested_[sequence];
  }

 private:
  std::atomic<bool> cancelled_{false};
  mutable std::mutex mutex_;
  std::vector<bool> stopRequested_;
};

}  // namespace moonlight::infer
