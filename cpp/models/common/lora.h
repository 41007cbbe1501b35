// LoRA adapters (Hu et al. 2021, as PEFT computes them): y = W x + b + s · B A dropout(x), s = α/r (α/√r with
// rsLoRA), A [r, in] Kaiming-uniform, B [out, r] zeros so a fresh adapter leaves the model unchanged. Every
// linear layer of a model owns a LoraSlot (empty until an adapter is attached), shared by all copies of the
// layer, so attaching, merging and listing adapters works by module name without reaching into the layers.
// Routed experts own one slot per projection holding stacked adapters (A [E, r, in], B [E, out, r]); at the
// naming boundary they appear per expert, `<prefix>.<e>.<projection>`, as PEFT names per-expert Linear modules.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

namespace moonlight::models {

struct LoraSlot {
  // Checkpoint module name without ".weight"; for an expert stack "<prefix>.<projection>"
  // (model.layers.1.mlp.experts.gate_proj) with expertNaming = (prefix, projection).
  std::string module;
  at::Tensor weight;  // the base weight adapted: [out, in], or [E, out, in] for an expert stack
  std::optional<std::pair<std::string, std::string>> expertNaming;
  // Adapters are float32 on a bf16/fp16 base (PEFT's autocast_adapter_dtype default), else in the base's dtype.
  at::Tensor a;  // [r, in] / [E, r, in]; undefined while no adapter is attached
  at::Tensor b;  // [out, r] / [E, out, r]
  double scaling = 0;
  double dropout = 0;

  bool active() const { return a.defined(); }
  int64_t numExperts() const { return expertNaming ? weight.size(0) : 0; }
  std::string expertModule(int64_t expert) const;
  // s · B A dropout(x) for one matrix pair (dropout only while autograd records, i.e. in training), with x
  // cast to the adapters' dtype.
  static at::Tensor delta(const at::Tensor& x, const at::Tensor& a, const at::Tensor& b, double scaling, double dropout);
  at::Tensor delta(const at::Tensor& x) const { return delta(x, a, b, scaling, dropout); }
  // The base output y plus the adapters' delta, rounded once to y's dtype: with fp32 adapters on a bf16 base
  // the sum is formed in fp32 first, as PEFT forms it.
  static at::Tensor addDelta(const at::Tensor& y, const at::Tensor& delta) { return (y + delta).to(y.scalar_type()); }
  // s · B A (batched over experts for a stack): what merging adds to the weight.
  at::Tensor weightDelta() const;
};

struct LoraConfig {
  int64_t rank = 8;
  double alpha = 8;
  double dropout = 0;
  bool useRslora = false;
  // Module names or suffixes (PEFT's list semantics: a module matches a target equal to its name or to a
  // '.'-separated suffix of it). allLinear: every linear layer except the routed experts (transformers 5
  // fuses those into 3-D parameters, so PEFT's 'all-linear' does not reach them there).
  std::vector<std::string> targetModules;
  bool allLinear = false;
  uint64_t seed = 0;
};

class ParameterList;

// Attaches fresh adapters to the matching slots and returns their module names (per expert for stacks).
// ConfigError when nothing matches, when adapters are attached already, or when a target picks only some
// experts of a stack.
std::vector<std::string> attachLora(const ParameterList& parameters, const LoraConfig& config);
// Folds s · B A into each adapted weight and removes the adapters; returns how many slots were merged.
int64_t mergeLora(const ParameterList& parameters);
// Removes the adapters without merging.
void removeLora(const ParameterList& parameters);
// Adapter tensors under PEFT's names (base_model.model.<module>.lora_A.weight / lora_B.weight), experts as
// per-expert views. gradients: their gradients instead (undefined where none).
std::vector<std::pair<std::string, at::Tensor>> loraTensors(const ParameterList& parameters, bool gradients,
                                                            bool leaves = false);
// The stored adapter tensors (expert stacks whole), named base_model.model.<slot module>.lora_A.weight.
std::vector<std::pair<std::string, at::Tensor>> storedLoraTensors(const ParameterList& parameters);
// Copies adapter tensors by PEFT name into the attached adapters; every adapter tensor must be given and
// no unknown name may appear (CheckpointError naming the tensor otherwise).
void loadLora(const ParameterList& parameters, const std::vector<std::pair<std::string, at::Tensor>>& tensors);

}  // namespace moonlight::models
