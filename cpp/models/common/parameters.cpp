#include "models/common/parameters.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include <ATen/CPUGeneratorImpl.h>

#include "core/errors.h"
#include "core/huge_pages.h"

namespace moonlight::models {

namespace {

std::string expertName(const ParameterEntry& entry, int64_t expert) {
  return entry.expertNaming->first + "." + std::to_string(expert) + "." + entry.expertNaming->second;
}

std::string shapeText(at::IntArrayRef shape) { return c10::str(shape); }

void copyChecked(const at::Tensor& target, const at::Tensor& source, const std::string& name) {
  if (!source.sizes().equals(target.sizes())) {
    fail(ErrorKind::Checkpoint, "tensor '" + name + "' has shape " + shapeText(source.sizes()) +
                                    " but the model expects " + shapeText(target.sizes()));
  }
  if (!c10::isFloatingType(source.scalar_type())) {
    fail(ErrorKind::Checkpoint, "tensor '" + name + "' must be floating point");
  }
  target.copy_(source);
}

}  // namespace

std::vector<std::pair<std::string, at::Tensor>> ParameterList::checkpointTensors(bool gradients, bool trainableOnly,
                                                                                 bool leaves) const {
  std::vector<std::pair<std::string, at::Tensor>> result;
  for (const ParameterEntry& entry : entries_) {
    if (trainableOnly && !entry.trainable) continue;
    at::Tensor tensor = gradients ? entry.tensor.grad() : entry.tensor.detach();
    if (!entry.expertNaming) {
      if (leaves && !gradients) tensor = entry.tensor;
      result.emplace_back(entry.name, tensor);
      continue;
    }
    for (int64_t e = 0; e < entry.tensor.size(0); ++e) {
      result.emplace_back(expertName(entry, e), tensor.defined() ? tensor.select(0, e) : at::Tensor());
    }
  }
  if (trainableOnly) {
    for (auto& named : loraTensors(*this, gradients, leaves)) result.push_back(std::move(named));
  }
  return result;
}

std::vector<std::pair<std::string, at::Tensor>> ParameterList::storedTensors(bool trainableOnly) const {
  std::vector<std::pair<std::string, at::Tensor>> result;
  for (const ParameterEntry& entry : entries_) {
    if (!trainableOnly || entry.trainable) result.emplace_back(entry.name, entry.tensor);
  }
  for (auto& named : storedLoraTensors(*this)) result.push_back(std::move(named));
  return result;
}

std::vector<std::string> ParameterList::freeze(const std::string& pattern) {
  std::regex regex;
  try {
    regex = std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& error) {
    fail(ErrorKind::Config, "freeze pattern '" + pattern + "' is not a valid regular expression (" + error.what() + ")");
  }
  std::vector<std::string> frozen;
  for (ParameterEntry& entry : entries_) {
    if (!entry.trainable || !entry.tensor.requires_grad()) continue;
    bool matched = std::regex_search(entry.name, regex);
    for (int64_t e = 0; !matched && entry.expertNaming && e < entry.tensor.size(0); ++e) {
      matched = std::regex_search(expertName(entry, e), regex);
    }
    if (!matched) continue;
    entry.trainable = false;
    entry.tensor.mutable_grad().reset();
    entry.tensor.set_requires_grad(false);
    frozen.push_back(entry.name);
  }
  return frozen;
}

void ParameterList::load(const std::vector<std::pair<std::string, at::Tensor>>& tensors, bool strict) const {
  // name -> (entry, expert index or -1)
  std::map<std::string, std::pair<const ParameterEntry*, int64_t>> targets;
  for (const ParameterEntry& entry : entries_) {
    targets[entry.name] = {&entry, -1};
    if (entry.expertNaming) {
      for (int64_t e = 0; e < entry.tensor.size(0); ++e) targets[expertName(entry, e)] = {&entry, e};
    }
  }
  std::vector<std::string> unknown;
  std::set<std::string> covered;  // checkpoint-level names that received values
  at::NoGradGuard noGrad;
  for (const auto& [name, source] : tensors) {
    auto found = targets.find(name);
    if (found == targets.end()) {
      unknown.push_back(name);
      continue;
    }
    const auto& [entry, expert] = found->second;
    if (expert < 0) {
      copyChecked(entry->tensor, source, name);
      if (entry->expertNaming) {
        for (int64_t e = 0; e < entry->tensor.size(0); ++e) covered.insert(expertName(*entry, e));
      } else {
        covered.insert(name);
      }
    } else {
      copyChecked(entry->tensor.select(0, expert), source, name);
      covered.insert(name);
    }
  }
  if (!strict) return;
  if (!unknown.empty()) {
    fail(ErrorKind::Checkpoint, "unknown tensor name '" + unknown.front() + "'" +
                                    (unknown.size() > 1 ? " (and " + std::to_string(unknown.size() - 1) + " more)" : ""));
  }
  std::vector<std::string> missing;
  for (const auto& [name, tensor] : checkpointTensors(false, false)) {
    if (!covered.count(name)) missing.push_back(name);
  }
  if (!missing.empty()) {
    fail(ErrorKind::Checkpoint, "missing tensor '" + missing.front() + "'" +
                                    (missing.size() > 1 ? " (and " + std::to_string(missing.size() - 1) + " more)" : ""));
  }
}

ParameterFactory::ParameterFactory(ParameterList& list, at::TensorOptions options, uint64_t seed,
                                   double initializerRange, WeightInit init)
    : list_(list),
      options_(options),
      generator_(at::make_generator<at::CPUGeneratorImpl>(seed)),
      initializerRange_(initializerRange),
      init_(init) {}

at::Tensor ParameterFactory::initialised(at::IntArrayRef shape, InitKind init) {
  at::Tensor tensor = at::empty(shape, options_);
  adviseHugePages(tensor);  // before the first write, whether the init or a checkpoint fills it
  if (init_ == WeightInit::Uninitialised) return tensor;
  if (init == InitKind::Zeros) return tensor.zero_();
  if (init == InitKind::Ones) return tensor.fill_(1.0);
  // Drawn on the CPU in fp32 from our own generator, so a seed gives the same weights on every device and dtype.
  const bool drawInPlace = options_.device().is_cpu() && options_.dtype() == at::kFloat;
  if (drawInPlace) {
    tensor.normal_(0.0, initializerRange_, generator_);
    return tensor;
  }
  // Other dtypes and devices: drawn through one reused fp32 chunk, then converted into place, instead of a whole
  // fp32 temporary per tensor (3x a bf16 expert stack's memory at once, allocated and freed for every tensor).
  // Equal to one draw over the whole tensor: torch's CPU normal_ takes uniforms in order and transforms them in
  // blocks of 16 (re-drawing the last 16 when the size is not a multiple), so chunks that are multiples of 16,
  // with a last chunk of at least 16, draw the same values (test/off-thread.test.ts compares bf16 with fp32).
  constexpr int64_t kChunkElements = int64_t{1} << 22;
  const int64_t numel = tensor.numel();
  // The largest chunk the loop below draws: a whole chunk plus a last remainder shorter than 16.
  const int64_t largestChunk = std::min(numel, kChunkElements + 15);
  if (drawChunk_.numel() < largestChunk) drawChunk_ = at::empty({largestChunk}, at::TensorOptions().dtype(at::kFloat));
  at::Tensor flat = tensor.view({-1});
  for (int64_t offset = 0; offset < numel;) {
    const int64_t remaining = numel - offset;
    const int64_t count = remaining - kChunkElements >= 16 ? kChunkElements : remaining;
    at::Tensor chunk = drawChunk_.narrow(0, 0, count);
    chunk.normal_(0.0, initializerRange_, generator_);
    flat.narrow(0, offset, count).copy_(chunk);
    offset += count;
  }
  return tensor;
}

at::Tensor ParameterFactory::make(const std::string& name, at::IntArrayRef shape, InitKind init, bool isEmbedding) {
  at::Tensor tensor = initialised(shape, init);
  tensor.set_requires_grad(true);
  list_.add({name, tensor, true, std::nullopt, isEmbedding});
  return tensor;
}

at::Tensor ParameterFactory::makeExpertStack(const std::string& prefix, const std::string& suffix,
                                             at::IntArrayRef shape) {
  at::Tensor tensor = initialised(shape, InitKind::Normal);
  tensor.set_requires_grad(true);
  list_.add({prefix + "." + suffix, tensor, true, std::make_pair(prefix, suffix), false});
  return tensor;
}

std::shared_ptr<LoraSlot> ParameterFactory::makeLoraSlot(const std::string& module, const at::Tensor& weight,
                                                         std::optional<std::pair<std::string, std::string>> expertNaming) {
  auto slot = std::make_shared<LoraSlot>();
  slot->module = module;
  slot->weight = weight;
  slot->expertNaming = std::move(expertNaming);
  list_.addLoraSlot(slot);
  return slot;
}

at::Tensor ParameterFactory::makeState(const std::string& name, at::IntArrayRef shape) {
  at::Tensor tensor = at::zeros(shape, options_.dtype(at::kFloat));
  list_.add({name, tensor, false, std::nullopt, false});
  return tensor;
}

}  // namespace moonlight::models
