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

/** The step's numbers, all of the whole step (every micro-batch and, distributed, every rank). */
export interface NativeStepScalars {
  /** lmLoss + auxLoss: what was differentiated. */
  loss: number;
  /** Mean next-token loss over every labelled token of the step. */
  lmLoss: number;
  /** The balance loss, mean over micro-batches and ranks. */
  auxLoss: number;
  /** Global gradient L2 norm before clipping. */
  gradNorm: number;
  /** The factor the gradients were scaled by (1 when not clipped). */
  clipCoefficient: number;
  /** Labelled tokens that counted in the loss. */
  tokens: number;
}

/** What either step resolves to. */
export interface NativeTrainStepResult extends NativeStepScalars {
  /** Indices of the MoE layers. */
  moeLayers: number[];
  /** Per MoE layer, the tokens routed to each expert in this step. */
  expertLoad: number[][];
  /** True when the optimizer skipped the update for non-finite gradients (nonFiniteGrads: 'skip'); always false
   *  without an optimizer. */
  optimizerSkipped: boolean;
  /** The parameters whose gradients were NaN/Inf, when skipped. */
  nonFiniteParameters: string[];
  /** When recorded: per layer each head's max pre-softmax logit before the update (null: not an MLA layer). */
  maxAttentionLogits?: Array<number[] | null>;
  /** Heads QK-Clip rescaled after the update (when recorded). */
  qkClippedHeads?: number;
  /** The paper's diagnostics, on diagnostic steps only. */
  diagnostics?: StepDiagnostics;
}
