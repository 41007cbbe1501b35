#include "infer/decode_threads.h"

#include <ATen/Parallel.h>

namespace moonlight::infer {

int64_t weightBytesPerToken(const models::CausalLM& model) {
  const models::ModelConfig& config = model.config();
  double bytes = 0;
  for (const models::ParameterEntry& entry : model.parameters().entries()) {
    const double size = static_cast<double>(entry.tensor.nbytes());
    if (entry.name == "model.embed_tokens.weight") {
      if (config.tieWordEmbeddings) bytes += size;  // it is lm_head too
    } else if (entry.expertNaming && config.moe) {
      bytes += size * static_cast<double>(config.moe->numExpertsPerTok) / static_cast<double>(config.moe->nRoutedExperts);
    } else {
      bytes += size;
    }
  }
  return static_cast<int64_t>(bytes);
}

int64_t defaultDecodeThreads(const models::CausalLM& model) {
  return weightBytesPerToken(model) < kSmallModelWeightBytes ? 1 : at::get_num_threads();
}

IntraOpThreadsScope::IntraOpThreadsScope(int64_t threads) : previous_(at::get_num_threads()) {
  if (threads != previous_) at::set_num_threads(static_cast<int>(threads));
}

IntraOpThreadsScope::~IntraOpThreadsScope() {
  if (at::get_num_threads() != previous_) at::set_num_threads(previous_);
}

}  // namespace moonlight::infer
