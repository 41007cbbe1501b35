#include "models/common/layers.h"

namespace moonlight::models {

Linear Linear::make(ParameterFactory& factory, const std::string& name, int64_t in, int64_t out, bool bias) {
  Linear linear;
  linear.weight = factory.make(name + ".weight", {out, in}, InitKind::Normal);
  if (bias) linear.bias = factory.make(name + ".bias", {out}, InitKind::Zeros);
  linear.lora = factory.makeLoraSlot(name, linear.weight);
  return linear;
}

RmsNorm RmsNorm::make(ParameterFactory& factory, const std::string& name, int64_t dim, double eps) {
  return RmsNorm{factory.make(name + ".weight", {dim}, InitKind::Ones), eps};
}

at::Tensor RmsNorm::operator()(const at::Tensor& x) const {
  at::Tensor x32 = x.to(at::kFloat);
  at::Tensor variance = x32.pow(2).mean(-1, /*keepdim=*/true);
  at::Tensor normalised = x32 * at::rsqrt(variance + eps);
  return weight * normalised.to(x.scalar_type());
}

GatedMlp GatedMlp::make(ParameterFactory& factory, const std::string& prefix, int64_t hidden, int64_t intermediate,
                        bool bias) {
  return GatedMlp{Linear::make(factory, prefix + ".gate_proj", hidden, intermediate, bias),
                  Linear::make(factory, prefix + ".up_proj", hidden, intermediate, bias),
                  Linear::make(factory, prefix + ".down_proj", intermediate, hidden, bias)};
}

}  // namespace moonlight::models
