/**
 * The paper's training diagnostics as the Trainer logs them (a train step returns them as StepDiagnostics,
 * measured natively on diagnostic steps by cpp/train/step_diagnostics.h): per matrix type the update RMS after
 * scaling (Muon's 0.2·√max(A, B) makes it ≈ 0.2, Lemma 1) and the weight RMS; per MLA layer each head's
 * max pre-softmax attention logit; per MoE layer the load balance and the routing-bias range. QK-Clip's
 * options live here too: it acts on those logits.
 */
import { ArgumentError } from '../errors';
import type { StepDiagnostics } from '../native';

/** QK-Clip (MuonClip) for MLA: heads whose max logit exceeds `threshold` (τ) are rescaled after the step. */
export interface QkClipOptions {
  /** τ; default 100 (Kimi K2). */
  threshold?: number;
  /** α, the share of the nope scaling on the queries (q_nope ×η^α, k_nope ×η^(1−α)); default 0.5. */
  alpha?: number;
  /**
   * false (default; Kimi K2, Megatron): η from the step's own forward, before the update, at no extra cost,
   * so a head can end a step somewhat above τ. true: measured again on the step's batch after the update
   * (one or two extra no-grad forwards) and clipped until every head is ≤ τ there.
   */
  remeasure?: boolean;
}

/** The diagnostics fields of a metrics.jsonl train record (present on diagnostic steps only). */
export interface DiagnosticRecordFields {
  /** Per matrix type. */
  updateRms?: Record<string, number>;
  weightRms?: Record<string, number>;
  /** Per MLA layer (index order): the max logit over its heads. */
  maxAttentionLogit?: number[];
  /** Per MoE layer. */
  moeLoadMaxOverMean?: number[];
  routerBiasRange?: number[];
  /** Heads QK-Clip rescaled this step. */
  qkClippedHeads?: number;
}

export function checkQkClip(value: unknown, name: string): Required<QkClipOptions> | null {
  if (value === undefined || value === null || value === false) return null;
  const options = (value === true ? {} : value) as QkClipOptions;
  if (typeof options !== 'object') throw new ArgumentError(`${name} must be { threshold, alpha }, true or null`);
  const threshold = options.threshold ?? 100;
  const alpha = options.alpha ?? 0.5;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold <= 0) {
    throw new ArgumentError(`${name}.threshold is ${String(threshold)}; expected a finite number > 0`);
  }
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1)) {
    throw new ArgumentError(`${name}.alpha is ${String(alpha)}; expected a number in [0, 1]`);
  }
  return { threshold, alpha, remeasure: options.remeasure === true };
}

/** Flattens a step's diagnostics into the record fields the Trainer writes. */
export function diagnosticRecordFields(diagnostics: StepDiagnostics | undefined, qkClippedHeads: number | undefined): DiagnosticRecordFields {
  const fields: DiagnosticRecordFields = {};
  if (qkClippedHeads !== undefined) fields.qkClippedHeads = qkClippedHeads;
  if (diagnostics === undefined) return fields;
  fields.updateRms = {};
  fields.weightRms = {};
  for (const stats of diagnostics.matrixTypes) {
    fields.weightRms[stats.type] = stats.weightRms;
    if (stats.updateRms !== undefined) fields.updateRms[stats.type] = stats.updateRms;
  }
  if (diagnostics.attention.length > 0) fields.maxAttentionLogit = diagnostics.attention.map((layer) => layer.maxLogit);
  if (diagnostics.moe.length > 0) {
    fields.moeLoadMaxOverMean = diagnostics.moe.map((layer) => layer.loadMaxOverMean);
    fields.routerBiasRange = diagnostics.moe.map((layer) => layer.biasMax - layer.biasMin);
  }
  return fields;
}
