/** The models part of the addon's interface (listed in src/native.ts's NativeAddon). */
import type { TrainStepMetrics } from './causal_lm';
import type { NativeTensorHandle } from '../native';
import type { ModelConfig } from './config';
import type { NativeOptimizerHandle } from '../optim/optimizer';

type H = NativeTensorHandle;

/** The typed config as the addon reads it (ModelConfig minus the raw `hf` object). */
export type NativeModelConfig = Omit<ModelConfig, 'hf'>;

export interface NativeModelOptions {
  seed?: number;
  dtype?: string;
  device?: string;
}

export interface NativeTrainStepOptions {
  precision?: string;
  maxGradNorm?: number | null;
  auxLossAlpha?: number | null;
  routerBiasUpdateRate?: number;
  diagnostics?: boolean;
  recordAttentionLogits?: boolean;
  qkClip?: { threshold: number; alpha: number; remeasure: boolean } | null;
}

// The native step returns exactly the metrics the TS API documents.
export type NativeTrainStepMetrics = TrainStepMetrics;

/** [inputIds, attentionMask | null, labels] of one micro-batch. */
export type NativeMicroBatch = [H, H | null, H];

export type NativeTensorKind = 'parameters' | 'state' | 'gradients' | 'stacks';

export interface NativeModelHandle {
  forward(inputIds: H, attentionMask: H | null, labels: H | null): Promise<{ logits: H; loss: H | null }>;
  trainStep(inputIds: H, attentionMask: H | null, labels: H, options: NativeTrainStepOptions): Promise<NativeTrainStepMetrics>;
  trainStepBatches(
    microBatches: NativeMicroBatch[],
    options: NativeTrainStepOptions,
    optimizer: NativeOptimizerHandle | null,
  ): Promise<NativeTrainStepMetrics>;
  namedTensors(kind: NativeTensorKind): Array<[string, H | null]>;
  loadStateDict(entries: Array<[string, H]>, strict: boolean): void;
  setTraining(training: boolean): void;
  isTraining(): boolean;
  routerBiases(): Array<[number, H]>;
  dispose(): void;
  attachLora(config: NativeLoraConfig): string[];
  mergeLora(): number;
  removeLora(): void;
  loadLora(entries: Array<[string, H]>): void;
  freeze(pattern: string): string[];
}

/** What the native attachLora reads (validated by src/models/lora.ts first). */
export interface NativeLoraConfig {
  rank: number;
  alpha: number;
  dropout: number;
  useRslora: boolean;
  targetModules: 'all-linear' | string[];
  seed: number;
}

/** Counts read off the model built on the meta device (cpp/train/model_size.h). */
export interface NativeParameterCounts {
  total: number;
  totalExcludingEmbeddings: number;
  activated: number;
  activatedExcludingEmbeddings: number;
  /** Set when a seqLen was given. */
  trainingFlopsPerToken?: number;
}

export interface NativeModelsAddon {
  ModelHandle: {
    new (config: NativeModelConfig, options: NativeModelOptions): NativeModelHandle;
    parameterCounts(config: NativeModelConfig, seqLen?: number): NativeParameterCounts;
  };
  balanceLoss(scores: H, indices: H, alpha: number, perSequence: boolean): H;
}
