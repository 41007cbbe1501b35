/**
 * Model FLOPs of training, for loss-vs-compute curves and MFU: 6 · (activated matmul parameters, lm_head
 * included, the embedding lookup excluded) per token, plus attention's score and value matmuls,
 * 6 · heads · T · (d_qk + d_v) per token and layer (no causal discount, as is customary for MFU). The same
 * formula as bench:train's.
 */
import type { ModelConfig } from '../models/config';
import { countParameters } from '../models/parameter_count';

export function trainingFlopsPerToken(config: ModelConfig, seqLen: number): number {
  const matmulParams = countParameters(config, { excludeEmbeddings: true, activatedOnly: true }) + config.vocabSize * config.hiddenSize;
  const qkDim = config.mla ? config.mla.qkNopeHeadDim + config.mla.qkRopeHeadDim : config.headDim;
  const vDim = config.mla ? config.mla.vHeadDim : config.headDim;
  const attention = 6 * config.numAttentionHeads * seqLen * (qkDim + vDim) * config.numHiddenLayers;
  return 6 * matmulParams + attention;
}
