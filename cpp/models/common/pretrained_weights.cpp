#include "models/common/pretrained_weights.h"

#include <algorithm>
#include <exception>
#include <map>
#include <thread>
#include <vector>

#include "core/errors.h"
#include "io/checkpoint_layout.h"
#include "io/tensor_file_reader.h"

namespace moonlight::models {

namespace {

std::string listed(const std::vector<std::string>& names, size_t limit = 12) {
  std::string text;
  for (size_t i = 0; i < names.size() && i < limit; ++i) text += (i > 0 ? ", " : "") + names[i];
  if (names.size() > limit) text += " … (" + std::to_string(names.size()) + " in all)";
  return text;
}

// Copying out of the page cache into freshly allocated weights is CPU-bound (the copy and a page fault per new
// page), so one thread per intra-op thread (at most kMaxReadThreads) reads its own contiguous run of the
// file-ordered reads, the runs about equal in bytes; each thread streams through its part of the shards. The
// first error, in file order, is rethrown once every thread has stopped.
constexpr int kMaxReadThreads = 8;

void readInParallel(const std::vector<const io::TensorLocation*>& reads, const std::map<std::string, at::Tensor>& destinations) {
  uint64_t totalBytes = 0;
  for (const io::TensorLocation* location : reads) totalBytes += location->bytes();
  const auto threadCount = static_cast<size_t>(std::clamp(at::get_num_threads(), 1, kMaxReadThreads));
  std::vector<std::vector<const io::TensorLocation*>> runs(1);
  uint64_t runBytes = 0;
  for (const io::TensorLocation* location : reads) {
    if (runBytes * threadCount >= totalBytes && runs.size() < threadCount) {
      runs.emplace_back();
      runBytes = 0;
    }
    runs.back().push_back(location);
    runBytes += location->bytes();
  }
  std::vector<std::exception_ptr> errors(runs.size());
  auto readRun = [&](size_t run) {
    try {
      io::TensorFileReader reader;
      for (const io::TensorLocation* location : runs[run]) reader.read(*location, destinations.at(location->entry.name));
    } catch (...) {
      errors[run] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (size_t run = 1; run < runs.size(); ++run) threads.emplace_back(readRun, run);
  readRun(0);
  for (std::thread& thread : threads) thread.join();
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

}  // namespace

PretrainedLoadReport loadPretrainedWeights(const CausalLM& model, const std::string& directory) {
  const std::map<std::string, io::TensorLocation> layout = io::readCheckpointLayout(directory);
  // Every checkpoint-level tensor of the model (experts as views into their stacks): where each one goes.
  std::map<std::string, at::Tensor> destinations;
  for (auto& [name, tensor] : model.parameters().checkpointTensors(/*gradients=*/false, /*trainableOnly=*/false)) {
    destinations.emplace(name, tensor);
  }
  std::vector<std::string> missing;
  for (const auto& [name, tensor] : destinations) {
    if (!layout.count(name)) missing.push_back(name);
  }
  if (!missing.empty()) {
    fail(ErrorKind::Checkpoint, directory + ": the checkpoint lacks " + std::to_string(missing.size()) +
                                    " tensor(s) the model needs: " + listed(missing));
  }
  PretrainedLoadReport report;
  std::vector<const io::TensorLocation*> reads;
  for (const auto& [name, location] : layout) {
    auto found = destinations.find(name);
    if (found == destinations.end()) {
      // With tied embeddings lm_head.weight is the embedding itself; a checkpoint may still store it.
      if (!(model.config().tieWordEmbeddings && name == "lm_head.weight")) report.unexpected.push_back(name);
      continue;
    }
    const at::Tensor& target = found->second;
    if (!at::IntArrayRef(location.entry.shape).equals(target.sizes())) {
      fail(ErrorKind::Checkpoint, location.path + ": tensor '" + name + "' has shape " +
                                      c10::str(at::IntArrayRef(location.entry.shape)) + " but the model expects " +
                                      c10::str(target.sizes()));
    }
    if (!c10::isFloatingType(location.entry.dtype.scalarType)) {
      fail(ErrorKind::Checkpoint, location.path + ": tensor '" + name + "' is " + location.entry.dtype.name +
                                      "; the model needs floating-point values");
    }
    reads.push_back(&location);
  }
  // File by file, front to back: the reads stream through each shard once.
  std::sort(reads.begin(), reads.end(), [](const io::TensorLocation* a, const io::TensorLocation* b) {
    return a->path != b->path ? a->path < b->path : a->entry.begin < b->entry.begin;
  });
  readInParallel(reads, destinations);
  return report;
}

}  // namespace moonlight::models
