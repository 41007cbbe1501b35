/**
 * Model FLOPs of training, for loss-vs-compute curves and MFU: 6 · (activated matmul parameters, lm_head
 * included, the embedding lookup excluded) per token, plus attention's score and value matmuls,
 * 6 · heads · T · (d_qk + d_v) per token and layer (no causal discount, as is customary for MFU). The same
 * formula as bench:train's; computed natively from the model's own tensors (cpp/train/model_size.h).
 */
import { ArgumentError } from '../errors';
import type { ModelConfig } from '../models/config';
import { nativeParameterCounts } from '../models/parameter_count';

export function trainingFlopsPerToken(config: ModelConfig, seqLen: number): number {
  if (!Number.isSafeInteger(seqLen) || seqLen <= 0) throw new ArgumentError(`seqLen must be a positive integer, got ${seqLen}`);
  return nativeParameterCounts(config, seqLen).trainingFlopsPerToken!;
}
