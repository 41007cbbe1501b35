#include "infer/generator.h"

#include <ATen/CPUGeneratorImpl.h>
#include <algorithm>
#include <chrono>

#include "core/errors.h"
#include "infer/decode_threads.h"

namespace moonlight::infer {

namespace {

void checkArguments(const models::CausalLM& model, const at::Tensor& ids, const at::Tensor& mask,
                    const GenerateOptions& options) {
  const models::ModelConfig& config = model.config();
  if (ids.dim() != 2 || ids.size(0) == 0 || ids.size(1) == 0) {
    fail(ErrorKind::Shape, "inputIds must be a non-empty 2-D [batch, sequence] tensor, got shape " + c10::str(ids.sizes()));
  }
  if (c10::isFloatingType(ids.scalar_type()) || ids.scalar_type() == at::kBool) {
    fail(ErrorKind::DType, "inputIds must hold integers");
  }
  const int64_t low = ids.min().item<int64_t>(), high = ids.max().item<int64_t>();
  if (low < 0 || high >= config.vocabSize) {
    fail(ErrorKind::Argument, "inputIds holds token id " + std::to_string(low < 0 ? low : high) +
                                  ", outside the vocabulary [0, vocab_size=" + std::to_string(config.vocabSize) + ")");
  }
  if (mask.defined() && !mask.sizes().equals(ids.sizes())) {
    fail(ErrorKind::Shape, "attentionMask has shape " + c10::str(mask.sizes()) + " but inputIds has " + c10::str(ids.sizes()));
  }
  if (options.maxNewTokens <= 0) fail(ErrorKind::Argument, "maxNewTokens must be a positive integer");
  if (options.sampling.temperature < 0) fail(ErrorKind::Argument, "temperature must be ≥ 0");
  if (options.sampling.topK < 0) fail(ErrorKind::Argument, "topK must be ≥ 0");
  if (!(options.sampling.topP > 0 && options.sampling.topP <= 1)) fail(ErrorKind::Argument, "topP must be in (0, 1]");
  if (options.threads < 0) fail(ErrorKind::Argument, "threads must be ≥ 0 (0: chosen by model size)");
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

GenerateResult generate(const models::CausalLM& model, const at::Tensor& inputIds, const at::Tensor& attentionMask,
                        const GenerateOptions& options, const TokenCallback& onTokens, const GenerationControl* control) {
  checkArguments(model, inputIds, attentionMask, options);
  c10::InferenceMode inference;
  const int64_t threads = options.threads > 0 ? options.threads : defaultDecodeThreads(model);
  IntraOpThreadsScope threadsScope(threads);
  const at::Device device = model.device();
  const int64_t batch = inputIds.size(0), promptLength = inputIds.size(1);
  at::Tensor ids = inputIds.to(device, at::kLong);
  at::Tensor mask = attentionMask.defined() ? attentionMask.to(device, at::kLong) : at::ones_like(ids);
  // As transformers does: a token's position counts the real tokens before it (left padding shifts nothing).
  at::Tensor positions = mask.cumsum(-1) - 1;
  positions.masked_fill_(mask.eq(0), 1);
  at::Tensor nextPosition = mask.sum(-1, /*keepdim=*/true);  // [B, 1]

  models::KvCache cache(model.config(), batch, promptLength + options.maxNewTokens,
                        at::TensorOptions().dtype(model.dtype()).device(device));
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  const int64_t filler = model.config().padTokenId.value_or(0);

  GenerateResult result;
  result.tokens.assign(batch, {});
  result.finishReasons.assign(batch, "length");
  result.cacheBytes = cache.allocatedBytes();
  result.cacheCapacity = cache.capacity();
  result.threads = threads;
  std::vector<at::Tensor> stepLogits;
  std::vector<bool> finished(batch, false);

  auto started = std::chrono::steady_clock::now();
  at::Tensor logits = model.forwardCached(ids, positions, mask, cache);
  for (int64_t step = 0; step < options.maxNewTokens; ++step) {
    if (options.returnLogits) stepLogits.push_back(logits.to(at::kCPU, at::kFloat));
    at::Tensor picked = pickTokens(logits, options.sampling, generator);  // [B] CPU int64
    if (step == 0) {
      result.prefillSeconds = secondsSince(started);
      started = std::chrono::steady_clock::now();
    }
    std::vector<int64_t> stepTokens(batch);
    std::vector<bool> emitted(batch);
    const int64_t* data = picked.data_ptr<int64_t>();
    for (int64_t b = 0; b < batch; ++b) {
      emitted[b] = !finished[b];
      stepTokens[b] = finished[b] ? filler : data[b];
      if (finished[b]) continue;
      result.tokens[b].push_back(data[b]);
      if (std::find(options.stopTokenIds.begin(), options.stopTokenIds.end(), data[b]) != options.stopTokenIds.end()) {
        finished[b] = true;
        result.finishReasons[b] = "stop";
      }
    }
    if (onTokens) onTokens(stepTokens, emitted);
    if (control != nullptr) {
      for (int64_t b = 0; b < batch; ++b) {
        if (!finished[b] && control->stopRequested(b)) {
          finished[b] = true;
          result.finishReasons[b] = "stop";
        }
      }
    }
    const bool allDone = std::all_of(finished.begin(), finished.end(), [](bool done) { return done; });
    if (allDone || step + 1 == options.maxNewTokens) break;
    if (control != nullptr && control->cancelled()) {
      for (int64_t b = 0; b < batch; ++b) {
        if (!finished[b]) result.finishReasons[b] = "cancelled";
      }
      break;
    }
    at::Tensor next = at::tensor(stepTokens, at::kLong).view({batch, 1}).to(device);
    logits = model.forwardCached(next, nextPosition, /*tokenMask=*/at::Tensor(), cache);
    nextPosition = nextPosition + 1;
  }
  result.decodeSeconds = secondsSince(started);
  if (options.returnLogits) result.stepLogits = at::stack(stepLogits);
  return result;
}

}  // namespace moonlight::infer
