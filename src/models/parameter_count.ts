/**
 * Parameter counts computed from a config alone (no model needed), as model cards state them.
 * `excludeEmbeddings` leaves out embed_tokens and lm_head (Moonlight's README: "15.29B total, 2.24B activated,
 * excluding embeddings"); `activatedOnly` counts, per MoE layer, only the num_experts_per_tok routed experts a
 * token runs (router and shared experts always count). The routing bias is state, not a parameter.
 */
import type { ModelConfig } from './config';

export interface ParameterCountOptions {
  excludeEmbeddings?: boolean;
  activatedOnly?: boolean;
}

function attentionParameters(config: ModelConfig): number {
  const hidden = config.hiddenSize;
  const heads = config.numAttentionHeads;
  const mla = config.mla;
  if (mla) {
    const qkHeadDim = mla.qkNopeHeadDim + mla.qkRopeHeadDim;
    const query =
      mla.qLoraRank === null
        ? hidden * heads * qkHeadDim
        : hidden * mla.qLoraRank + mla.qLoraRank + mla.qLoraRank * heads * qkHeadDim;
    const kvA = hidden * (mla.kvLoraRank + mla.qkRopeHeadDim) + mla.kvLoraRank;
    const kvB = mla.kvLoraRank * heads * (mla.qkNopeHeadDim + mla.vHeadDim);
    return query + kvA + kvB + heads * mla.vHeadDim * hidden;
  }
  const q = hidden * heads * config.headDim + (config.qkvBias ? heads * config.headDim : 0);
  const kvWidth = config.numKeyValueHeads * config.headDim;
  const kv = 2 * (hidden * kvWidth + (config.qkvBias ? kvWidth : 0));
  const o = heads * config.headDim * hidden + (config.outputBias ? hidden : 0);
  return q + kv + o;
}

function gatedMlpParameters(hidden: number, inner: number, bias: boolean): number {
  return 3 * hidden * inner + (bias ? 2 * inner + hidden : 0);
}

function isMoeLayer(config: ModelConfig, layer: number): boolean {
  return config.moe !== null && layer >= config.moe.firstKDenseReplace && layer % config.moe.moeLayerFreq === 0;
}

export function countParameters(config: ModelConfig, options: ParameterCountOptions = {}): number {
  const hidden = config.hiddenSize;
  let total = 0;
  for (let layer = 0; layer < config.numHiddenLayers; layer++) {
    total += attentionParameters(config) + 2 * hidden;  // + input/post-attention norms
    const moe = config.moe;
    if (moe !== null && isMoeLayer(config, layer)) {
      const expert = gatedMlpParameters(hidden, moe.moeIntermediateSize, false);
      const routed = options.activatedOnly ? moe.numExpertsPerTok : moe.nRoutedExperts;
      total += routed * expert + moe.nRoutedExperts * hidden;  // experts + router
      if (moe.nSharedExperts > 0) total += gatedMlpParameters(hidden, moe.moeIntermediateSize * moe.nSharedExperts, false);
    } else {
      total += gatedMlpParameters(hidden, config.intermediateSize, config.mlpBias);
    }
  }
  total += hidden;  // final norm
  if (!options.excludeEmbeddings) {
    total += config.vocabSize * hidden * (config.tieWordEmbeddings ? 1 : 2);
  }
  return total;
}
