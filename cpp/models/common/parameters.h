// The named tensors of a model and how they are made. Names are transformers' checkpoint names, so a
// Hugging Face state dict maps 1:1. Routed experts are held as 3-D stacks [E, out, in] (one leaf tensor per
// projection and layer, so the optimizer sees a batch of matrices); at the naming boundary each stack is
// shown as E per-expert tensors `<prefix>.<e>.<suffix>` that are views into it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "models/common/lora.h"

namespace moonlight::models {

// How a tensor is initialised, following transformers' _init_weights.
enum class InitKind { Normal, Zeros, Ones };

// Whether a model's weights get their initial values. A model about to be filled from a checkpoint skips it:
// drawing 16 B normal values would cost minutes and touch every page twice.
enum class WeightInit { Random, Uninitialised };

struct ParameterEntry {
  std::string name;  // for a stack: "<prefix>.<suffix>" (e.g. model.layers.1.mlp.experts.gate_proj.weight)
  at::Tensor tensor;
  bool trainable = true;  // false for state such as e_score_correction_bias (updated without gradients)
  // Set for an expert stack: per-expert names are expertPrefix + "." + e + "." + expertSuffix.
  std::optional<std::pair<std::string, std::string>> expertNaming;
  bool isEmbedding = false;  // embed_tokens / lm_head: excluded by numParameters({excludeEmbeddings})
};

class ParameterList {
 public:
  void add(ParameterEntry entry) { entries_.push_back(std::move(entry)); }
  const std::vector<ParameterEntry>& entries() const { return entries_; }
  void addLoraSlot(std::shared_ptr<LoraSlot> slot) { loraSlots_.push_back(std::move(slot)); }
  // One per linear layer and per expert-stack projection, in construction order.
  const std::vector<std::shared_ptr<LoraSlot>>& loraSlots() const { return loraSlots_; }
  // Freezes the trainable tensors whose stored name (or, for a stack, any per-expert name) matches the
  // ECMAScript regex `pattern` (searched, not anchored): no gradient, excluded from trainable listings and so
  // from optimizers; still part of the checkpoint state. Returns the stored names frozen.
  std::vector<std::string> freeze(const std::string& pattern);

  // One (name, tensor) per checkpoint tensor: expert stacks unstacked into views (detached, sharing the
  // stack's memory). `gradients` gives the gradient of each instead (undefined where none was computed).
  // `leaves`: other tensors are the model's own autograd leaves (an optimizer can read their .grad and
  // update them), not detached aliases. trainableOnly lists the attached LoRA adapters too (PEFT names);
  // the full listing is the base model's checkpoint and has none.
  std::vector<std::pair<std::string, at::Tensor>> checkpointTensors(bool gradients, bool trainableOnly,
                                                                    bool leaves = false) const;
  // The stored tensors themselves (stacks kept whole), attached LoRA adapters included.
  std::vector<std::pair<std::string, at::Tensor>> storedTensors(bool trainableOnly) const;
  // Copies each named tensor into the model (under no-grad). Names may be checkpoint names or stack names.
  // strict: every model tensor must be given and no unknown name may appear (CheckpointError otherwise).
  void load(const std::vector<std::pair<std::string, at::Tensor>>& tensors, bool strict) const;

 private:
  std::vector<ParameterEntry> entries_;
  std::vector<std::shared_ptr<LoraSlot>> loraSlots_;
};

// Creates initialised leaf tensors and records them in a ParameterList.
class ParameterFactory {
 public:
  ParameterFactory(ParameterList& list, at::TensorOptions options, uint64_t seed, double initializerRange,
                   WeightInit init = WeightInit::Random);

  at::Tensor make(const std::string& name, at::IntArrayRef shape, InitKind init, bool isEmbedding = false);
  // A stack of E matrices named per expert as "<prefix>.<e>.<suffix>".
  at::Tensor makeExpertStack(const std::string& prefix, const std::string& suffix, at::IntArrayRef shape);
  // The (empty) LoRA slot of a linear layer `module` or, with expertNaming, of an expert stack's projection.
  std::shared_ptr<LoraSlot> makeLoraSlot(const std::string& module, const at::Tensor& weight,
                                         std::optional<std::pair<std::string, std::string>> expertNaming = std::nullopt);
  // Non-trainable fp32 state (zeros), e.g. the router's e_score_correction_bias.
  at::Tensor makeState(const std::string& name, at::IntArrayRef shape);

 private:
  at::Tensor initialised(at::IntArrayRef shape, InitKind init);

  ParameterList& list_;
  at::TensorOptions options_;
  at::Generator generator_;
  double initializerRange_;
  WeightInit init_;
  at::Tensor drawChunk_;  // fp32 draw buffer for weights in other dtypes/devices, reused across tensors
};

}  // namespace moonlight::models
