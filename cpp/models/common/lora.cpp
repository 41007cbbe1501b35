#include "models/common/lora.h"

#include <cmath>
#include <map>
#include <set>

#include <ATen/CPUGeneratorImpl.h>

#include "core/errors.h"
#include "models/common/parameters.h"

namespace moonlight::models {

namespace {

const std::string kPeftPrefix = "base_model.model.";

bool endsWithTarget(const std::string& module, const std::string& target) {
  if (module == target) return true;
  return module.size() > target.size() && module.compare(module.size() - target.size(), target.size(), target) == 0 &&
         module[module.size() - target.size() - 1] == '.';
}

bool matchesAny(const std::string& module, const std::vector<std::string>& targets) {
  for (const std::string& target : targets) {
    if (endsWithTarget(module, target)) return true;
  }
  return false;
}

// Whether the slot is targeted: all of it, or not at all (a stack adapted on some experts only is refused).
bool targeted(const LoraSlot& slot, const LoraConfig& config) {
  if (!slot.expertNaming) return config.allLinear || matchesAny(slot.module, config.targetModules);
  if (matchesAny(slot.module, config.targetModules)) return true;
  int64_t matched = 0;
  for (int64_t e = 0; e < slot.numExperts(); ++e) matched += matchesAny(slot.expertModule(e), config.targetModules);
  if (matched > 0 && matched < slot.numExperts()) {
    fail(ErrorKind::Config, "target_modules picks " + std::to_string(matched) + " of the " +
                                std::to_string(slot.numExperts()) + " experts of " + slot.module +
                                ": LoRA adapts all routed experts of a projection or none");
  }
  return matched > 0;
}

// PEFT's init of lora_A: kaiming_uniform_(a=√5), i.e. U(-1/√in, 1/√in).
at::Tensor initialA(at::IntArrayRef shape, at::Generator& generator, const at::TensorOptions& options) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(shape.back()));
  at::Tensor a = at::empty(shape, at::TensorOptions().dtype(at::kFloat));
  a.uniform_(-bound, bound, generator);
  return a.to(options);
}

std::string peftName(const std::string& module, const char* matrix) { return kPeftPrefix + module + "." + matrix + ".weight"; }

}  // namespace

std::string LoraSlot::expertModule(int64_t expert) const {
  return expertNaming->first + "." + std::to_string(expert) + "." + expertNaming->second;
}

at::Tensor LoraSlot::delta(const at::Tensor& x, const at::Tensor& a, const at::Tensor& b, double scaling,
                           double dropout) {
  // Dropout acts only while autograd records (train steps); eval forwards and generation run with grad off.
  const at::Tensor cast = x.to(a.scalar_type());  // no-op unless fp32 adapters meet a bf16 base's activations
  const at::Tensor input = dropout > 0 && at::GradMode::is_enabled() ? at::dropout(cast, dropout, true) : cast;
  return at::linear(at::linear(input, a), b) * scaling;
}

at::Tensor LoraSlot::weightDelta() const { return at::matmul(b, a) * scaling; }

std::vector<std::string> attachLora(const ParameterList& parameters, const LoraConfig& config) {
  if (config.rank <= 0) fail(ErrorKind::Config, "LoRA rank must be a positive integer, got " + std::to_string(config.rank));
  if (!(config.alpha > 0)) fail(ErrorKind::Config, "LoRA alpha must be positive");
  if (!(config.dropout >= 0 && config.dropout < 1)) fail(ErrorKind::Config, "LoRA dropout must be in [0, 1)");
  if (!config.allLinear && config.targetModules.empty()) {
    fail(ErrorKind::Config, "target_modules is empty: name modules (q_proj, …) or use 'all-linear'");
  }
  std::vector<LoraSlot*> chosen;
  for (const auto& slot : parameters.loraSlots()) {
    if (slot->active()) fail(ErrorKind::Config, "the model has LoRA adapters already (" + slot->module + "): merge or remove them first");
    if (targeted(*slot, config)) chosen.push_back(slot.get());
  }
  if (chosen.empty()) {
    std::string known;
    for (const auto& slot : parameters.loraSlots()) {
      const std::string& name = slot->expertNaming ? slot->expertNaming->second : slot->module.substr(slot->module.rfind('.') + 1);
      if (known.find(name) == std::string::npos) known += (known.empty() ? "" : ", ") + name;
    }
    fail(ErrorKind::Config, "target_modules matches no linear layer of this model; its layers are named " + known);
  }
  const double scaling = config.useRslora ? config.alpha / std::sqrt(static_cast<double>(config.rank))
                                          : config.alpha / static_cast<double>(config.rank);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(config.seed);
  std::vector<std::string> modules;
  for (LoraSlot* slot : chosen) {
    const bool halfBase = slot->weight.scalar_type() == at::kBFloat16 || slot->weight.scalar_type() == at::kHalf;
    const at::TensorOptions options = slot->weight.options().dtype(halfBase ? at::kFloat : slot->weight.scalar_type()).requires_grad(false);
    const int64_t out = slot->weight.size(-2), in = slot->weight.size(-1);
    if (slot->expertNaming) {
      const int64_t experts = slot->numExperts();
      slot->a = initialA({experts, config.rank, in}, generator, options);
      slot->b = at::zeros({experts, out, config.rank}, options);
      for (int64_t e = 0; e < experts; ++e) modules.push_back(slot->expertModule(e));
    } else {
      slot->a = initialA({config.rank, in}, generator, options);
      slot->b = at::zeros({out, config.rank}, options);
      modules.push_back(slot->module);
    }
    slot->a.set_requires_grad(true);
    slot->b.set_requires_grad(true);
    slot->scaling = scaling;
    slot->dropout = config.dropout;
  }
  return modules;
}

int64_t mergeLora(const ParameterList& parameters) {
  at::NoGradGuard noGrad;
  int64_t merged = 0;
  for (const auto& slot : parameters.loraSlots()) {
    if (!slot->active()) continue;
    slot->weight.add_(slot->weightDelta().to(slot->weight.scalar_type()));
    ++merged;
  }
  removeLora(parameters);
  return merged;
}

void removeLora(const ParameterList& parameters) {
  for (const auto& slot : parameters.loraSlots()) {
    slot->a = at::Tensor();
    slot->b = at::Tensor();
    slot->scaling = 0;
    slot->dropout = 0;
  }
}

std::vector<std::pair<std::string, at::Tensor>> loraTensors(const ParameterList& parameters, bool gradients,
                                                            bool leaves) {
  std::vector<std::pair<std::string, at::Tensor>> result;
  for (const auto& slot : parameters.loraSlots()) {
    if (!slot->active()) continue;
    for (const auto& [tensor, matrix] : {std::pair{slot->a, "lora_A"}, std::pair{slot->b, "lora_B"}}) {
      at::Tensor value = gradients ? tensor.grad() : (leaves ? tensor : tensor.detach());
      if (!slot->expertNaming) {
        result.emplace_back(peftName(slot->module, matrix), value);
        continue;
      }
      for (int64_t e = 0; e < slot->numExperts(); ++e) {
        result.emplace_back(peftName(slot->expertModule(e), matrix),
                            value.defined() ? value.detach().select(0, e) : at::Tensor());
      }
    }
  }
  return result;
}

std::vector<std::pair<std::string, at::Tensor>> storedLoraTensors(const ParameterList& parameters) {
  std::vector<std::pair<std::string, at::Tensor>> result;
  for (const auto& slot : parameters.loraSlots()) {
    if (!slot->active()) continue;
    result.emplace_back(peftName(slot->module, "lora_A"), slot->a);
    result.emplace_back(peftName(slot->module, "lora_B"), slot->b);
  }
  return result;
}

void loadLora(const ParameterList& parameters, const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
  std::map<std::string, at::Tensor> targets;
  for (auto& [name, tensor] : loraTensors(parameters, false)) targets[name] = tensor;
  if (targets.empty()) fail(ErrorKind::Checkpoint, "the model has no LoRA adapters to load into: attach them first");
  std::set<std::string> covered;
  at::NoGradGuard noGrad;
  for (const auto& [name, source] : tensors) {
    auto found = targets.find(name);
    if (found == targets.end()) fail(ErrorKind::Checkpoint, "adapter tensor '" + name + "' matches no LoRA module of the model");
    if (!source.sizes().equals(found->second.sizes())) {
      fail(ErrorKind::Checkpoint, "adapter tensor '" + name + "' has shape " + c10::str(source.sizes()) +
                                      " but the model's adapter has " + c10::str(found->second.sizes()) + " (rank?)");
    }
    found->second.copy_(source);
    covered.insert(name);
  }
  for (const auto& [name, tensor] : targets) {
    if (!covered.count(name)) fail(ErrorKind::Checkpoint, "the adapter file lacks '" + name + "'");
  }
}

}  // namespace moonlight::models
