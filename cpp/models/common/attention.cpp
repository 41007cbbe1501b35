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
  const int64_t valueDim = v.size(-1);
  at::Tensor values = v;
  // The fused (flash) kernels need one head size for q, k and v; MLA's v is narrower than q/k (128 vs 192
  // in Moonlight), which would send it down the slow unfused path that materialises every T×T score
  // matrix. Zero-padding v to the q/k size and dropping the extra output columns gives the same result.
  if (isCausal && valueDim < q.size(-1)) values = at::constant_pad_nd(v, {0, q.size(-1) - valueDim});
  // Fewer key/value heads than query heads (GQA): the kernel shares them without materialised copies.
  const bool groupedQuery = k.size(1) != q.size(1);
  at::Tensor out = at::scaled_dot_product_attention(q, k, values, mask.defined() ? std::optional<at::Tensor>(mask) : std::nullopt,
                                                    /*dropout_p=*/0.0, isCausal, scale, groupedQuery);
  if (values.size(-1) != valueDim) out = out.narrow(-1, 0, valueDim);
  // [B,H,T,Dv] → [B,T,H·Dv]
  return out.transpose(1, 2).reshape({q.size(0), q.size(2), q.size(1) * valueDim});
}


}  // namespace moonlight::models
