/**
 * Parameter counts of a config, as model cards state them, read off the native model built on the meta device
 * (shapes only: no memory, no initialisation). `excludeEmbeddings` leaves out embed_tokens and lm_head
 * (Moonlight's README: "15.29B total, 2.24B activated, excluding embeddings"); `activatedOnly` counts, per MoE
 * layer, only the num_experts_per_tok routed experts a token runs (router and shared experts always count).
 * The routing bias is state, not a parameter.
 */
import { native } from '../native';
import type { NativeParameterCounts } from '../native';
import { ModelConfig, nativeModelConfig } from './config';

export interface ParameterCountOptions {
  excludeEmbeddings?: boolean;
  activatedOnly?: boolean;
}

/** @internal The native counts (and, with seqLen, the training FLOPs per token) of a parsed config. */
export function nativeParameterCounts(config: ModelConfig, seqLen?: number): NativeParameterCounts {
  return native().ModelHandle.parameterCounts(nativeModelConfig(config), seqLen);
}

export function countParameters(config: ModelConfig, options: ParameterCountOptions = {}): number {
  const counts = nativeParameterCounts(config);
  if (options.activatedOnly) return options.excludeEmbeddings ? counts.activatedExcludingEmbeddings : counts.activated;
  return options.excludeEmbeddings ? counts.totalExcludingEmbeddings : counts.total;
}
