#include "models/common/attention.h"

namespace moonlight::models {

at::Tensor buildAttentionMask(const at::Tensor& paddingMask, int64_t seqLen) {
  if (!paddingMask.defined()) return at::Tensor();
  at::Tensor causal = at::ones({seqLen, seqLen}, paddingMask.options().dtype(at::kBool)).tril();
  at::Tensor keys = paddingMask.to(at::kBool).view({paddingMask.size(0), 1, 1, seqLen});
  return causal.view({1, 1, seqLen, seqLen}).logical_and(keys);
}

at::Tensor causalAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                           const at::Tensor& mask) {
  const bool isCausal = !mask.defined();
  at::Tensor out = at::scaled_dot_product_attention(q, k, v, mask.defined() ? std::optional<at::Tensor>(mask) : std::nullopt,
                                                    /*dropout_p=*/0.0, isCausal, scale);
  // [B,H,T,Dv] → [B,T,H·Dv]
  return out.transpose(1, 2).reshape({q.size(0), q.size(2), q.size(1) * v.size(-1)});
}

at::Tensor repeatKvHeads(const at::Tensor& x, int64_t groups) {
  if (groups == 1) return x;
  const auto b = x.size(0), h = x.size(1), t = x.size(2), d = x.size(3);
  return x.unsqueeze(2).expand({b, h, groups, t, d}).reshape({b, h * groups, t, d});
}

}  // namespace moonlight::models
