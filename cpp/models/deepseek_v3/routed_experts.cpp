#include "models/deepseek_v3/routed_experts.h"

#include <vector>

namespace moonlight::models {

namespace {

// One projection of the experts. With autograd on, its stack and adapter are unbound once per call (one
// cat/stack in backward, where a select per expert would zero-fill a full-size gradient each); without it
// (generation), only the experts that receive tokens are selected: a decoding step routes a few tokens to
// a few experts, and unbinding every expert of every projection would be most of the layer's op count.
class ExpertProjection {
 public:
  ExpertProjection(const at::Tensor& stack, const std::shared_ptr<LoraSlot>& slot) : stack_(stack) {
    if (slot->active()) lora_ = slot.get();
    if (!at::GradMode::is_enabled()) return;
    weights_ = stack.unbind(0);
    if (lora_ == nullptr) return;
    loraA_ = lora_->a.unbind(0);
    loraB_ = lora_->b.unbind(0);
  }

  at::Tensor operator()(const at::Tensor& x, int64_t expert) const {
    at::Tensor y = at::linear(x, part(weights_, stack_, expert));
    if (lora_ == nullptr) return y;
    at::Tensor delta = LoraSlot::delta(x, part(loraA_, lora_->a, expert), part(loraB_, lora_->b, expert), lora_->scaling,
                                       lora_->dropout);
    return LoraSlot::addDelta(y, delta);
  }

 private:
  static at::Tensor part(const std::vector<at::Tensor>& unbound, const at::Tensor& stack, int64_t expert) {
    return unbound.empty() ? stack.select(0, expert) : unbound[expert];
  }

  at::Tensor stack_;
  const LoraSlot* lora_ = nullptr;
  std::vector<at::Tensor> weights_, loraA_, loraB_;
};

}  // namespace

RoutedExperts::RoutedExperts(ParameterFactory& factory, const std::string& prefix, const ModelConfig& config)
    : numExperts_(config.moe->nRoutedExperts) {
  const int64_t hidden = config.hiddenSize, inner = config.moe->moeIntermediateSize;
  gateProj_ = factory.makeExpertStack(prefix, "gate_proj.weight", {numExperts_, inner, hidden});
  upProj_ = factory.makeExpertStack(prefix, "up_proj.weight", {numExperts_, inner, hidden});
  downProj_ = factory.makeExpertStack(prefix, "down_proj.weight", {numExperts_, hidden, inner});
  gateLora_ = factory.makeLoraSlot(prefix + ".gate_proj", gateProj_, std::make_pair(prefix, std::string("gate_proj")));
  upLora_ = factory.makeLoraSlot(prefix + ".up_proj", upProj_, std::make_pair(prefix, std::string("up_proj")));
  downLora_ = factory.makeLoraSlot(prefix + ".down_proj", downProj_, std::make_pair(prefix, std::string("down_proj")));
}

at::Tensor RoutedExperts::operator()(const at::Tensor& x, const Routing& routing, at::Tensor* load) const {
  const int64_t topK = routing.indices.size(1);
  at::Tensor flatExperts = routing.indices.reshape({-1});  // [N·K], slot s = token s/K, choice s%K
  // Stable sort keeps tokens in ascending order within an expert (the order transformers accumulates in).
  at::Tensor order = std::get<1>(flatExperts.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
  at::Tensor tokenOfSlot = order.div(topK, "floor");
  at::Tensor counts = at::bincount(flatExperts, {}, numExperts_);
  if (load != nullptr) *load = counts.to(at::kFloat);
  // One device→host copy per layer: the split sizes must be known on the host.
  at::Tensor hostCounts = counts.to(at::kCPU);
  const int64_t* countData = hostCounts.data_ptr<int64_t>();

  at::Tensor grouped = x.index_select(0, tokenOfSlot);  // [N·K, H], expert-contiguous
  // split/unbind rather than narrow/select: their backward is one cat/stack, where each narrow or select
  // would zero-fill a tensor of the full size per expert.
  std::vector<int64_t> sizes(countData, countData + numExperts_);
  std::vector<at::Tensor> slices = at::split_with_sizes(grouped, sizes, 0);
  const ExpertProjection gate(gateProj_, gateLora_), up(upProj_, upLora_), down(downProj_, downLora_);
  std::vector<at::Tensor> outputs;
  for (int64_t e = 0; e < numExperts_; ++e) {
    if (sizes[e] == 0) continue;
    at::Tensor inner = at::silu(gate(slices[e], e)) * up(slices[e], e);
    outputs.push_back(down(inner, e));
  }
  at::Tensor expertOut = at::cat(outputs, 0);
  at::Tensor slotWeights = routing.weights.reshape({-1}).index_select(0, order).unsqueeze(1);  // fp32
  at::Tensor weighted = (expertOut * slotWeights).to(x.scalar_type());
  return at::zeros_like(x).index_add(0, tokenOfSlot, weighted);
}

}  // namespace moonlight::models
