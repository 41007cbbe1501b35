#include "models/deepseek_v3/moe_block.h"

#include "models/deepseek_v3/load_balance.h"

namespace moonlight::models {

MoeBlock::MoeBlock(ParameterFactory& factory, const std::string& prefix, const ModelConfig& config)
    : router_(factory, prefix + ".gate", config), experts_(factory, prefix + ".experts", config), moe_(*config.moe) {
  if (moe_.nSharedExperts > 0) {
    sharedExperts_ = GatedMlp::make(factory, prefix + ".shared_experts", config.hiddenSize,
                                    moe_.moeIntermediateSize * moe_.nSharedExperts, false);
  }
}

at::Tensor MoeBlock::operator()(const at::Tensor& x, double auxLossAlpha, MoeLayerStats* stats) const {
  const int64_t batch = x.size(0), seqLen = x.size(1), hidden = x.size(2);
  at::Tensor flat = x.reshape({batch * seqLen, hidden});
  Routing routing = router_(flat);
  at::Tensor load;
  at::Tensor out = experts_(flat, routing, stats != nullptr ? &load : nullptr).view({batch, seqLen, hidden});
  if (sharedExperts_) out = out + (*sharedExperts_)(x);
  if (stats != nullptr) {
    stats->load = load;
    if (auxLossAlpha > 0) {
      stats->auxLoss = balanceLoss(routing.scores.view({batch, seqLen, -1}), routing.indices.view({batch, seqLen, -1}),
                                   auxLossAlpha, moe_.seqAux);
    }
  }
  return out;
}

}  // namespace moonlight::models
