/**
 * A model's native train step as the addon takes and reports it (cpp/napi/model_handle.cpp's trainStep and
 * trainStepBatches over cpp/train/step_runner.h), the paper's diagnostics it measures included
 * (read and written by cpp/train/step_json.cpp).
 */
import type { NativeTensorHandle } from './tensor';

type H = NativeTensorHandle;

/** [inputIds, attentionMask | null, labels] of one micro-batch. */
export type NativeMicroBatch = [H, H | null, H];

/** Absent (or null) fields take the core's defaults (cpp/train/train_step.h). */
export interface NativeTrainStepOptions {
  precision?: 'fp32' | 'bf16-mixed';
  maxGradNorm?: number | null;
  auxLossAlpha?: number | null;
  routerBiasUpdateRate?: number;
  diagnostics?: boolean;
  recordAttentionLogits?: boolean;
  qkClip?: { threshold: number; alpha: number; remeasure: boolean } | null;
}

export interface MatrixTypeStats {
  /** "q_proj", "kv_b_proj", "experts.down_proj", "router", "embed_tokens", "norms", … */
  type: string;
  optimizer: 'muon' | 'adamw' | 'mixed';
  /** Matrices of this type (an [E, out, in] expert stack counts E). */
  matrices: number;
  weightRms: number;
  /** RMS of this step's update over the type's elements; min / max over its matrices. Absent when none was updated. */
  updateRms?: number;
  updateRmsMin?: number;
  updateRmsMax?: number;
}

export interface AttentionLayerLogits {
  layer: number;
  maxLogit: number;
  perHead: number[];
}

export interface MoeLayerBalance {
  layer: number;
  /** Busiest expert's tokens / the mean (1 = balanced). */
  loadMaxOverMean: number;
  biasMin: number;
  biasMax: number;
}

export interface StepDiagnostics {
  matrixTypes: MatrixTypeStats[];
  attention: AttentionLayerLogits[];
  moe: MoeLayerBalance[];
}

/**
 * The step's numbers (CausalLM's TrainStepMetrics documents each): loss = lmLoss + auxLoss, the gradient norm
 * before clipping, the clip coefficient, and the labelled tokens; all of the whole step (every micro-batch and,
 * distributed, every rank).
 */
export type NativeStepScalars = Record<'loss' | 'lmLoss' | 'auxLoss' | 'gradNorm' | 'clipCoefficient' | 'tokens', number>;

/** What either step resolves to. */
export interface NativeTrainStepResult extends NativeStepScalars {
  moeLayers: number[];
  /** Per MoE layer, the tokens routed to each expert. */
  expertLoad: number[][];
  /** Always false without an optimizer. */
  optimizerSkipped: boolean;
  nonFiniteParameters: string[];
  /** Set, with qkClippedHeads, when the logits were recorded; null for a layer without MLA. */
  maxAttentionLogits?: Array<number[] | null>;
  qkClippedHeads?: number;
  /** On diagnostic steps only. */
  diagnostics?: StepDiagnostics;
}
