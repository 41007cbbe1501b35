/**
 * CausalLM: a DeepSeek-V3/Moonlight, Qwen2 or Llama model held natively. Forward passes and train steps run
 * off the JS thread; names and shapes of parameters are transformers' checkpoint names.
 */
import { checkQkClip } from '../train/step_diagnostics';
import type { QkClipOptions } from '../train/step_diagnostics';
import { ArgumentError, DisposedError } from '../errors';
import { native } from '../native';
import type { Device } from '../tensor/device';
import type { DType } from '../tensor/dtype';
import { tensor } from '../tensor/factories';
import { operandHandle, Tensor } from '../tensor/tensor';
import { ModelConfig, nativeModelConfig, parseModelConfig } from './config';
import type {
  NativeMicroBatch, NativeModelHandle, NativeModelOptions, NativeStepScalars, NativeTensorKind, NativeTrainStepResult, StepDiagnostics,
} from '../native';
import { attachLoraTo, forgetLora, LoraOptions, loraSettingsOf, ResolvedLoraOptions } from './lora';
import { nativeOptimizerHandle, Optimizer } from '../optim/optimizer';
import { countParameters, ParameterCountOptions } from './parameter_count';
import { FromPretrainedOptions, loadPretrained, savePretrained, SavePretrainedOptions } from './pretrained';
import { generateStreamWithHandle, generateWithHandle } from '../infer/generate';
import type { GenerateOptions, GenerateResult, GeneratedToken } from '../infer/generate';

export interface CausalLMOptions {
  /** Seed of the weight initialisation (normal(0, initializer_range), zero biases, unit norms). Default 0. */
  seed?: number;
  /** Parameter dtype, default float32. */
  dtype?: DType;
  device?: Device;
}

export interface ForwardOptions {
  /** [B, T] token ids; the loss scores logits[:, t] against labels[:, t+1], ignoring -100. */
  labels?: Tensor | number[][];
  /** [B, T]: 1 for tokens, 0 for padding. */
  attentionMask?: Tensor | number[][];
}

export interface ForwardResult {
  logits: Tensor;
  /** The mean next-token cross entropy when labels were given, else null. */
  loss: Tensor | null;
}

export type Precision = 'fp32' | 'bf16-mixed';

export interface TrainStepOptions extends ForwardOptions {
  labels: Tensor | number[][];
  /** 'fp32' (default) or 'bf16-mixed': bf16 autocast compute over the fp32 weights. */
  precision?: Precision;
  /** Clip the global L2 norm of the raw gradients to this value. */
  maxGradNorm?: number;
  /** Weight of DeepSeek's balance loss; default: the config's aux_loss_alpha (0 when absent). */
  auxLossAlpha?: number;
  /** γ of the aux-loss-free routing-bias update bias_e += γ·sign(mean load − load_e); default 1e-3, 0 = off. */
  routerBiasUpdateRate?: number;
}

/** A step's numbers as the core reports them (each field documented in src/native/train_step.ts). */
export type TrainStepMetrics = NativeStepScalars & Pick<NativeTrainStepResult, 'moeLayers' | 'expertLoad'>;

/** Metrics of an accumulated step that also ran an optimizer. */
export type OptimizerStepMetrics = NativeTrainStepResult;

export interface MicroBatch {
  inputIds: Tensor | number[][];
  labels: Tensor | number[][];
  attentionMask?: Tensor | number[][];
}

export type AccumulatedStepOptions = Omit<TrainStepOptions, 'labels' | 'attentionMask'> & {
  /** Measure the paper's diagnostics this step (update / weight RMS per matrix type, logits, balance). */
  diagnostics?: boolean;
  /** Record each MLA head's max pre-softmax logit (implied by diagnostics and qkClip). */
  recordAttentionLogits?: boolean;
  /** QK-Clip after the optimizer step (MLA models, one process). */
  qkClip?: QkClipOptions | null;
};

export interface NamedParametersOptions {
  /** Give each expert stack as one [E, out, in] tensor (`…mlp.experts.gate_proj.weight`) instead of E views. */
  expertStacks?: boolean;
}

function tokenTensor(value: Tensor | number[][], argumentName: string): Tensor {
  if (value instanceof Tensor) {
    if (value.dtype !== 'int64' && value.dtype !== 'int32') {
      throw new ArgumentError(`${argumentName} must be an int64 or int32 Tensor, got ${value.dtype}`);
    }
    return value;
  }
  if (!Array.isArray(value)) throw new ArgumentError(`${argumentName} must be a Tensor or a 2-D array of integers`);
  value.flat().forEach((id, i) => {
    if (!Number.isSafeInteger(id)) throw new ArgumentError(`${argumentName} element ${i} is ${String(id)}; expected an integer`);
  });
  return tensor(value, { dtype: 'int64' });
}

function checkStepNumbers(options: AccumulatedStepOptions): void {
  for (const key of ['maxGradNorm', 'auxLossAlpha', 'routerBiasUpdateRate'] as const) {
    const value = options[key];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
      throw new ArgumentError(`options.${key} must be a finite number, got ${String(value)}`);
    }
  }
}

// The core checks these options (errors name options.<key>).
function nativeModelOptions(options: CausalLMOptions): NativeModelOptions {
  return { seed: options.seed, dtype: options.dtype, device: options.device };
}

export class CausalLM {
  readonly config: ModelConfig;
  /** dtype of the floating-point weights (the routers' correction biases stay float32 whatever it is). */
  readonly dtype: DType;
  #handle: NativeModelHandle | null;

  private constructor(config: ModelConfig, handle: NativeModelHandle, dtype: DType) {
    this.config = config;
    this.#handle = handle;
    this.dtype = dtype;
  }

  /**
   * A freshly initialised model from a config.json object (either transformers key style), made on the JS
   * thread: fine for small models; `CausalLM.create` makes large ones without blocking the event loop.
   */
  static fromConfig(config: Record<string, unknown>, options: CausalLMOptions = {}): CausalLM {
    const parsed = parseModelConfig(config);
    const nativeConfig = nativeModelConfig(parsed);
    return new CausalLM(parsed, new (native().ModelHandle)(nativeConfig, nativeModelOptions(options)), options.dtype ?? 'float32');
  }

  /** As fromConfig, with the weights allocated and initialised off the JS thread. */
  static async create(config: Record<string, unknown>, options: CausalLMOptions = {}): Promise<CausalLM> {
    const parsed = parseModelConfig(config);
    const nativeConfig = nativeModelConfig(parsed);
    return new CausalLM(parsed, await native().createModel(nativeConfig, nativeModelOptions(options)), options.dtype ?? 'float32');
  }

  private get handle(): NativeModelHandle {
    if (this.#handle === null) throw new DisposedError('the model was disposed and cannot be used any more');
    return this.#handle;
  }

  /** logits [B, T, vocab] (and the loss with labels). In train() mode autograd records the graph. */
  async forward(inputIds: Tensor | number[][], options: ForwardOptions = {}): Promise<ForwardResult> {
    const ids = tokenTensor(inputIds, 'inputIds');
    const labels = options.labels === undefined ? null : tokenTensor(options.labels, 'labels');
    const mask = options.attentionMask === undefined ? null : tokenTensor(options.attentionMask, 'attentionMask');
    const result = await this.handle.forward(
      operandHandle(ids, 'inputIds'),
      mask && operandHandle(mask, 'attentionMask'),
      labels && operandHandle(labels, 'labels'),
    );
    return { logits: new Tensor(result.logits), loss: result.loss === null ? null : new Tensor(result.loss) };
  }

  /**
   * One native training step: forward, loss (+ balance loss), backward, gradient norm / clipping, routing-bias
   * update. The gradients stay on the parameters (see namedGradients()).
   */
  async trainStep(inputIds: Tensor | number[][], options: TrainStepOptions): Promise<TrainStepMetrics> {
    if (options === null || typeof options !== 'object' || options.labels === undefined) {
      throw new ArgumentError('trainStep needs options.labels');
    }
    const ids = tokenTensor(inputIds, 'inputIds');
    const labels = tokenTensor(options.labels, 'labels');
    const mask = options.attentionMask === undefined ? null : tokenTensor(options.attentionMask, 'attentionMask');
    checkStepNumbers(options);
    return this.handle.trainStep(operandHandle(ids, 'inputIds'), mask && operandHandle(mask, 'attentionMask'),
      operandHandle(labels, 'labels'), {
        precision: options.precision,
        maxGradNorm: options.maxGradNorm,
        auxLossAlpha: options.auxLossAlpha,
        routerBiasUpdateRate: options.routerBiasUpdateRate,
      });
  }

  /**
   * One optimizer step over gradient-accumulated micro-batches, as a single native job off the JS thread:
   * forward + backward of each micro-batch (its loss weighted by its share of the step's labelled tokens, so
   * the gradients are those of the token mean over the whole — distributed: global — batch), gradient norm and clipping of the summed
   * raw gradients, `optimizer`'s update (then its zeroGrad), and one routing-bias update from the summed
   * expert load. Without an optimizer the summed gradients stay on the parameters.
   */
  async trainStepAccumulated(
    microBatches: MicroBatch[],
    optimizer: Optimizer | null,
    options: AccumulatedStepOptions = {},
  ): Promise<OptimizerStepMetrics> {
    if (!Array.isArray(microBatches) || microBatches.length === 0) {
      throw new ArgumentError('microBatches must be a non-empty array of { inputIds, labels }');
    }
    checkStepNumbers(options);
    const native = microBatches.map((batch, i): NativeMicroBatch => {
      if (batch === null || typeof batch !== 'object' || batch.labels === undefined) {
        throw new ArgumentError(`microBatches[${i}] needs inputIds and labels`);
      }
      const ids = tokenTensor(batch.inputIds, `microBatches[${i}].inputIds`);
      const labels = tokenTensor(batch.labels, `microBatches[${i}].labels`);
      const mask = batch.attentionMask === undefined ? null : tokenTensor(batch.attentionMask, `microBatches[${i}].attentionMask`);
      return [operandHandle(ids, `microBatches[${i}].inputIds`), mask && operandHandle(mask, `microBatches[${i}].attentionMask`),
        operandHandle(labels, `microBatches[${i}].labels`)];
    });
    const result = await this.handle.trainStepBatches(native, {
      precision: options.precision,
      maxGradNorm: options.maxGradNorm,
      auxLossAlpha: options.auxLossAlpha,
      routerBiasUpdateRate: options.routerBiasUpdateRate,
      diagnostics: options.diagnostics === true,
      recordAttentionLogits: options.recordAttentionLogits === true,
      qkClip: checkQkClip(options.qkClip, 'options.qkClip'),
    }, optimizer === null ? null : nativeOptimizerHandle(optimizer));
    return result as OptimizerStepMetrics;
  }

  /**
   * Generates up to options.maxNewTokens tokens per sequence of inputIds [B, T] with a KV cache, as one
   * native job off the JS thread (left-pad batches and pass options.attentionMask). See src/infer/generate.ts.
   */
  async generate(inputIds: Tensor | number[][], options: GenerateOptions = {}): Promise<GenerateResult> {
    return generateWithHandle(this.handle, inputIds, options);
  }

  /** generate(), yielding { sequence, token, text? } for each new token as it is produced. */
  generateStream(inputIds: Tensor | number[][], options: GenerateOptions = {}): AsyncIterable<GeneratedToken> {
    return generateStreamWithHandle(this.handle, inputIds, options);
  }

  private named(kind: NativeTensorKind): Map<string, Tensor | null> {
    return new Map(this.handle.namedTensors(kind).map(([name, h]) => [name, h === null ? null : new Tensor(h)]));
  }

  /**
   * Trainable parameters by transformers' checkpoint name: the model's own tensors (their `.grad` is what
   * trainStep computed). Routed experts are per-expert views into the native [E, out, in] stacks (loading
   * into them writes the model; they carry no `.grad`); with `expertStacks` the stacks themselves are
   * returned — what an optimizer should be given (`new Muon(model.namedParameters({ expertStacks: true }))`).
   */
  namedParameters(options: NamedParametersOptions = {}): Map<string, Tensor> {
    return this.named(options.expertStacks ? 'stacks' : 'parameters') as Map<string, Tensor>;
  }

  /** Parameters plus state (the routers' e_score_correction_bias), by checkpoint name: what a checkpoint holds. */
  stateDict(): Map<string, Tensor> {
    return this.named('state') as Map<string, Tensor>;
  }

  /** The gradient of each trainable parameter (null where none was computed), by checkpoint name. */
  namedGradients(): Map<string, Tensor | null> {
    return this.named('gradients');
  }

  /** Copies tensors into the model by checkpoint (or stack) name. strict (default): all present, none unknown. */
  loadStateDict(state: Map<string, Tensor> | Record<string, Tensor>, options: { strict?: boolean } = {}): void {
    const entries = state instanceof Map ? [...state.entries()] : Object.entries(state);
    this.handle.loadStateDict(entries.map(([name, t]) => [name, operandHandle(t, name)]), options.strict ?? true);
  }

  /** Copies of the routers' correction biases, by MoE layer index. */
  routerBiases(): Map<number, Tensor> {
    return new Map(this.handle.routerBiases().map(([layer, h]) => [layer, new Tensor(h)]));
  }

  numParameters(options: ParameterCountOptions = {}): number {
    return countParameters(this.config, options);
  }

  get training(): boolean {
    return this.handle.isTraining();
  }

  /** Training mode (the default): forward records the autograd graph. */
  train(): this {
    this.handle.setTraining(true);
    return this;
  }

  /** Inference mode: forward records no graph. */
  eval(): this {
    this.handle.setTraining(false);
    return this;
  }

  /**
   * A model from a Hugging Face folder (config.json, generation_config.json, model.safetensors or shards
   * named by model.safetensors.index.json). See src/models/pretrained.ts for what is checked.
   */
  static async fromPretrained(directory: string, options: FromPretrainedOptions = {}): Promise<CausalLM> {
    return loadPretrained((config, handle, dtype) => new CausalLM(config, handle, dtype), directory, options);
  }

  /** Writes a Hugging Face folder that transformers' from_pretrained loads; returns the files written. */
  async savePretrained(directory: string, options: SavePretrainedOptions = {}): Promise<string[]> {
    return savePretrained(this, directory, options);
  }

  /**
   * Adds fresh LoRA adapters (B = 0, so the outputs do not change) to the layers options.targetModules names
   * and freezes every base weight; returns the adapted module names (per expert for routed experts). The
   * adapters appear in namedParameters() under PEFT's names. See src/models/lora.ts.
   */
  attachLora(options: LoraOptions): string[] {
    return attachLoraTo(this, this.handle, options);
  }

  /** Folds the adapters into the base weights (W += α/r · B A) and removes them; returns how many layers. */
  mergeLora(): number {
    const merged = this.handle.mergeLora();
    forgetLora(this);
    return merged;
  }

  /** Removes the adapters without merging them. */
  removeLora(): void {
    this.handle.removeLora();
    forgetLora(this);
  }

  /** The LoRA settings attached (null when none is). */
  get lora(): ResolvedLoraOptions | null {
    return loraSettingsOf(this);
  }

  /** Copies adapter tensors (PEFT names, as namedParameters() lists them) into the attached adapters; all must be given. */
  loadLoraTensors(tensors: Map<string, Tensor> | Record<string, Tensor>): void {
    const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
    this.handle.loadLora(entries.map(([name, t]) => [name, operandHandle(t, name)]));
  }

  /**
   * Freezes the trainable tensors whose name matches `pattern` (a RegExp or its source; searched, so
   * 'embed_tokens' matches model.embed_tokens.weight): no gradients, left out of namedParameters() and so of
   * any optimizer built from it, kept in stateDict(). Returns the names frozen (expert stacks by stack name).
   */
  freeze(pattern: RegExp | string): string[] {
    const source = pattern instanceof RegExp ? pattern.source : pattern;
    if (typeof source !== 'string' || source === '') throw new ArgumentError('freeze: pattern must be a non-empty RegExp or string');
    return this.handle.freeze(source);
  }

  dispose(): void {
    this.#handle?.dispose();
    this.#handle = null;
  }
}
