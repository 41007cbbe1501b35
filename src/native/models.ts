/** The models part of the addon's interface (cpp/napi/model_bindings.cpp, model_handle.cpp, model_lora_bindings.cpp). */
import type { NativeModelConfig } from './model_config';
import type { NativeOptimizerHandle } from './optim';
import type { NativeTensorHandle } from './tensor';
import type { NativeMicroBatch, NativeTrainStepOptions, NativeTrainStepResult } from './train_step';

type H = NativeTensorHandle;

/** The core reads and checks these (cpp/models/common/model_creation.cpp): seed 0, float32 on the CPU by default. */
export interface NativeModelOptions {
  seed?: number;
  /** A floating dtype. */
  dtype?: string;
  device?: string;
}

/**
 * 'parameters': the trainable leaves; 'state': parameters and buffers under their checkpoint names;
 * 'gradients': the parameters' gradients (null where none); 'stacks': the stored tensors, experts as
 * [E, out, in] stacks.
 */
export type NativeTensorKind = 'parameters' | 'state' | 'gradients' | 'stacks';

/**
 * One model owned by the addon. forward and the train steps run off the JS thread and hold the model; the
 * synchronous calls that touch its weights are ArgumentErrors while such a job runs.
 */
export interface NativeModelHandle {
  /** Records the autograd graph only in training mode. */
  forward(inputIds: H, attentionMask: H | null, labels: H | null): Promise<{ logits: H; loss: H | null }>;
  trainStep(inputIds: H, attentionMask: H | null, labels: H, options: NativeTrainStepOptions): Promise<NativeTrainStepResult>;
  /** One step over gradient-accumulated micro-batches, `optimizer`'s update included when given. */
  trainStepBatches(
    microBatches: NativeMicroBatch[],
    options: NativeTrainStepOptions,
    optimizer: NativeOptimizerHandle | null,
  ): Promise<NativeTrainStepResult>;
  namedTensors(kind: NativeTensorKind): Array<[string, H | null]>;
  loadStateDict(entries: Array<[string, H]>, strict: boolean): void;
  setTraining(training: boolean): void;
  isTraining(): boolean;
  /** Copies of each MoE layer's routing bias: [layer index, bias]. */
  routerBiases(): Array<[number, H]>;
  /** Frees the model once the jobs in flight are done with it. */
  dispose(): void;
  /** Returns the adapted module names (per expert for routed experts). */
  attachLora(config: NativeLoraConfig): string[];
  /** Returns the number of adapted layers folded into their weights. */
  mergeLora(): number;
  removeLora(): void;
  /** Adapter tensors under their PEFT names. */
  loadLora(entries: Array<[string, H]>): void;
  /** Returns the stored names of the tensors frozen. */
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
    /** A freshly initialised model, made on the JS thread. */
    new (config: NativeModelConfig, options: NativeModelOptions): NativeModelHandle;
    parameterCounts(config: NativeModelConfig, seqLen?: number): NativeParameterCounts;
  };
  /** The core's checks of a config (throws a ConfigError naming the key); nothing is allocated. */
  checkModelConfig(config: NativeModelConfig): void;
  /** As new ModelHandle, with the weights allocated and initialised off the JS thread (options checked at once). */
  createModel(config: NativeModelConfig, options: NativeModelOptions): Promise<NativeModelHandle>;
  /**
   * A model built without initialisation and filled from the Hugging Face folder's safetensors files, off the
   * JS thread; `unexpected` names the checkpoint tensors the model does not use.
   */
  loadPretrainedModel(
    config: NativeModelConfig,
    directory: string,
    options: NativeModelOptions,
  ): Promise<{ model: NativeModelHandle; unexpected: string[] }>;
  /** The MoE balance loss on given routing: scores [B, T, E], indices [B, T, K]. */
  balanceLoss(scores: H, indices: H, alpha: number, perSequence: boolean): H;
}
