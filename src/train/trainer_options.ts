/**
 * Trainer options: what a user passes (everything optional but the run folder's location has a default
 * too), checked once into a resolved form with every default filled in. Defaults follow Moonlight's
 * examples/toy_train.py where it has one (lr 1e-3, weight decay 0.1, cosine schedule with 100 warmup steps
 * decaying to 0, batch 16, one epoch, no clipping, fp32), and the embedded corpus + a small MoE otherwise.
 */
import { ArgumentError, ConfigError } from '../errors';
import type { CausalLM, Precision } from '../models/causal_lm';
import type { MuonOptions } from '../optim/muon';
import type { AdamWOptions } from '../optim/adamw';
import type { LrSchedule } from '../optim/schedule';
import type { Tokenizer } from '../data/tokenizer';
import { checkQkClip, QkClipOptions } from './step_diagnostics';

export type ScheduleName = 'cosine' | 'wsd' | 'constant';

export interface ModelSizeOptions {
  hiddenSize?: number;
  numLayers?: number;
  intermediateSize?: number;
  numHeads?: number;
}

export interface TrainerOptions {
  /**
   * A preset name ('moonlight-tiny' default, 'moonlight', 'qwen', 'llama'), a config.json object, the path
   * of a config.json (fresh weights) or of a Hugging Face model folder (its weights), or a CausalLM.
   */
  model?: string | Record<string, unknown> | CausalLM;
  /** Size knobs of a preset (ignored for configs and folders). */
  modelSize?: ModelSizeOptions;
  /**
   * 'byte', 'gpt2', 'cl100k_base', …, a tiktoken.model / tokenizer.json file or folder, or a Tokenizer.
   * Default: the model folder's own tokenizer when `model` is a Hugging Face folder that has one, else 'byte'.
   */
  tokenizer?: string | Tokenizer;
  /** A dataset name ('moby-dick', the default), or text / JSONL / parquet files or folders. */
  dataset?: string | string[];
  /** The JSONL field / parquet column holding the text. Default 'text'. */
  textField?: string;
  /** Where token caches live. Default $MOONLIGHT_CACHE_DIR or ~/.cache/moonlight-torch/tokens. */
  cacheDir?: string;

  /** 'muon' (default: Muon for matrices + its AdamW for the rest) or 'adamw', with options. */
  optimizer?: 'muon' | 'adamw' | ({ type: 'muon' } & MuonOptions) | ({ type: 'adamw' } & AdamWOptions);
  /** Peak learning rate. Default 1e-3. */
  lr?: number;
  /**
   * Per matrix type (the diagnostics' keys: 'q_proj', 'o_proj', 'experts.down_proj', …) a factor k on the
   * update of its parameters, weight decay untouched: W·(1 − lr·wd) − k·lr·U. Each listed type becomes a param
   * group with lr k·lr and weight decay wd/k (so k·lr·wd/k = lr·wd), and the schedule sets its lr to k times
   * the scheduled one. Default: none (every factor 1).
   */
  updateScaleByMatrixType?: Record<string, number>;
  /** Decoupled weight decay of every parameter group. Default 0.1. */
  weightDecay?: number;
  /** 'cosine' (default: linear warmup, cosine to minLr), 'wsd', 'constant', or any LrSchedule. */
  schedule?: ScheduleName | LrSchedule;
  /** Warmup steps of cosine / WSD. Default 100 (toy_train), capped at a tenth of the run when that is shorter. */
  warmupSteps?: number;
  /** Final lr of cosine / WSD. Default 0 (cosine, as toy_train) and lr/10 (WSD). */
  minLr?: number;
  /** Fraction of the run that WSD spends decaying. Default 0.2. */
  decayFraction?: number;

  /** Sequences per micro-batch. Default 16. */
  batchSize?: number;
  /** Tokens per sequence. Default 512 (toy_train). */
  seqLen?: number;
  /** Micro-batches per optimizer step. Default 1. */
  gradAccum?: number;
  /** Clip the global norm of the raw gradients (before Muon) to this. Default: no clipping. */
  maxGradNorm?: number | null;
  precision?: Precision;
  /** Seeds the weights and the data order. Default 0. */
  seed?: number;

  /** Stop after this many optimizer steps / tokens / epochs (the first reached); default one epoch. */
  maxSteps?: number;
  maxTokens?: number;
  epochs?: number;

  /** Evaluate on the validation split every N steps (and at the end). Default 0: never. */
  evalEvery?: number;
  /** Fraction of the sequences held out for validation. Default 0.05 when evaluating, else 0. */
  validationFraction?: number;
  /** At most this many validation batches per evaluation. Default 20. */
  evalBatches?: number;

  /** Write a training checkpoint every N steps (and always at the end). Default 0: only at the end. */
  saveEvery?: number;
  /** Keep only the newest N checkpoints. Default 3. */
  keepLast?: number;
  /** The run folder (metrics.jsonl, run.json, checkpoints/). Default runs/<model>_<optimizer>_lr<lr>. */
  outDir?: string;
  /** Continue from the newest checkpoint of this run folder (true: of outDir), or from a checkpoint folder. */
  resume?: boolean | string;
  /** Stops cleanly after the current step, saving a checkpoint. */
  signal?: AbortSignal;
  /**
   * Data parallelism over the ranks of `moonlight launch` / torchrun: 'zero1' (the paper's ZeRO-1 Muon:
   * optimizer state partitioned over ranks), 'whole-matrix' (each rank orthogonalises whole matrices), or
   * 'off'. Default: 'zero1' when $WORLD_SIZE > 1, else 'off'. `batchSize` is per rank.
   */
  distributed?: DistributedMode;
  /**
   * Measure the paper's diagnostics every N steps (update / weight RMS per matrix type, max attention logit
   * per MLA layer, router balance) into metrics.jsonl. Default 10; 0: never.
   */
  diagnosticsEvery?: number;
  /** QK-Clip (MuonClip) after each step for MLA models: true ({ threshold: 100, alpha: 0.5 }) or options. Default off. */
  qkClip?: boolean | QkClipOptions | null;
}

export type DistributedMode = 'zero1' | 'whole-matrix' | 'off';

export interface ResolvedTrainerOptions {
  model: string | Record<string, unknown> | CausalLM;
  modelSize: ModelSizeOptions;
  /** undefined: the model folder's tokenizer, else 'byte' (decided in setup, where the model is known). */
  tokenizer: string | Tokenizer | undefined;
  dataset: string | string[];
  textField: string;
  cacheDir: string | undefined;
  optimizer: { type: 'muon' | 'adamw'; options: Record<string, unknown> };
  lr: number;
  updateScaleByMatrixType: Record<string, number>;
  weightDecay: number;
  schedule: ScheduleName | LrSchedule;
  warmupSteps: number | undefined;
  minLr: number | undefined;
  decayFraction: number;
  batchSize: number;
  seqLen: number;
  gradAccum: number;
  maxGradNorm: number | null;
  precision: Precision;
  seed: number;
  maxSteps: number | undefined;
  maxTokens: number | undefined;
  epochs: number | undefined;
  evalEvery: number;
  validationFraction: number;
  evalBatches: number;
  saveEvery: number;
  keepLast: number;
  outDir: string | undefined;
  resume: boolean | string;
  signal: AbortSignal | undefined;
  distributed: DistributedMode;
  diagnosticsEvery: number;
  qkClip: Required<QkClipOptions> | null;
}

const knownKeys = new Set<string>([
  'model', 'modelSize', 'tokenizer', 'dataset', 'textField', 'cacheDir', 'optimizer', 'lr', 'updateScaleByMatrixType', 'weightDecay', 'schedule',
  'warmupSteps', 'minLr', 'decayFraction', 'batchSize', 'seqLen', 'gradAccum', 'maxGradNorm', 'precision', 'seed',
  'maxSteps', 'maxTokens', 'epochs', 'evalEvery', 'validationFraction', 'evalBatches', 'saveEvery', 'keepLast',
  'outDir', 'resume', 'signal', 'distributed',
  'diagnosticsEvery', 'qkClip',
]);

function integer(value: unknown, fallback: number | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ArgumentError(`options.${name} is ${String(value)}; expected an integer ≥ ${min}`);
  }
  return value;
}

function positiveNumber(value: unknown, fallback: number | undefined, name: string, allowZero = false): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new ArgumentError(`options.${name} is ${String(value)}; expected a finite number ${allowZero ? '≥' : '>'} 0`);
  }
  return value;
}

function resolveUpdateScales(value: unknown): Record<string, number> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ArgumentError('options.updateScaleByMatrixType must be an object of matrix type → factor');
  }
  for (const [type, factor] of Object.entries(value)) positiveNumber(factor, undefined, `updateScaleByMatrixType['${type}']`);
  return { ...(value as Record<string, number>) };
}

function resolveOptimizer(value: TrainerOptions['optimizer']): ResolvedTrainerOptions['optimizer'] {
  if (value === undefined || value === 'muon') return { type: 'muon', options: {} };
  if (value === 'adamw') return { type: 'adamw', options: {} };
  if (typeof value === 'object' && value !== null && (value.type === 'muon' || value.type === 'adamw')) {
    const { type, ...options } = value;
    return { type, options };
  }
  throw new ConfigError(`options.optimizer is ${JSON.stringify(value)}; expected 'muon', 'adamw' or { type: 'muon' | 'adamw', ... }`);
}

/** The mode asked for; by default 'zero1' under a launcher ($WORLD_SIZE > 1), else 'off'. */
export function resolveDistributedMode(value: DistributedMode | undefined): DistributedMode {
  const mode = value ?? (Number(process.env.WORLD_SIZE ?? '1') > 1 ? 'zero1' : 'off');
  if (!['zero1', 'whole-matrix', 'off'].includes(mode)) {
    throw new ConfigError(`options.distributed is '${String(mode)}'; expected 'zero1', 'whole-matrix' or 'off'`);
  }
  return mode;
}

export function resolveTrainerOptions(options: TrainerOptions): ResolvedTrainerOptions {
  if (options === null || typeof options !== 'object') throw new ArgumentError('Trainer options must be an object');
  for (const key of Object.keys(options)) {
    if (!knownKeys.has(key)) throw new ArgumentError(`unknown Trainer option '${key}'; the options are ${[...knownKeys].join(', ')}`);
  }
  const schedule = options.schedule ?? 'cosine';
  if (typeof schedule === 'string' && !['cosine', 'wsd', 'constant'].includes(schedule)) {
    throw new ConfigError(`options.schedule is '${schedule}'; expected 'cosine', 'wsd', 'constant' or an LrSchedule`);
  }
  if (typeof schedule === 'object' && typeof schedule?.lrAt !== 'function') {
    throw new ConfigError('options.schedule must have an lrAt(step) method');
  }
  const precision = options.precision ?? 'fp32';
  if (precision !== 'fp32' && precision !== 'bf16-mixed') {
    throw new ConfigError(`options.precision is '${String(precision)}'; expected 'fp32' or 'bf16-mixed'`);
  }
  const evalEvery = integer(options.evalEvery, 0, 'evalEvery', 0)!;
  const validationFraction = positiveNumber(options.validationFraction, evalEvery > 0 ? 0.05 : 0, 'validationFraction', true)!;
  if (validationFraction >= 1) throw new ConfigError(`options.validationFraction is ${validationFraction}; expected a fraction below 1`);
  if (evalEvery > 0 && validationFraction === 0) {
    throw new ConfigError('options.evalEvery needs a validation split: set validationFraction above 0');
  }
  const maxGradNorm = options.maxGradNorm ?? null;
  if (maxGradNorm !== null) positiveNumber(maxGradNorm, undefined, 'maxGradNorm');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new ArgumentError('options.signal must be an AbortSignal');
  }
  const distributedMode = resolveDistributedMode(options.distributed);
  const resume = options.resume ?? false;
  if (typeof resume !== 'boolean' && typeof resume !== 'string') throw new ArgumentError('options.resume must be a boolean or a path');
  return {
    model: options.model ?? 'moonlight-tiny',
    modelSize: options.modelSize ?? {},
    tokenizer: options.tokenizer,
    dataset: options.dataset ?? 'moby-dick',
    textField: options.textField ?? 'text',
    cacheDir: options.cacheDir,
    optimizer: resolveOptimizer(options.optimizer),
    lr: positiveNumber(options.lr, 1e-3, 'lr')!,
    updateScaleByMatrixType: resolveUpdateScales(options.updateScaleByMatrixType),
    weightDecay: positiveNumber(options.weightDecay, 0.1, 'weightDecay', true)!,
    schedule,
    warmupSteps: integer(options.warmupSteps, undefined, 'warmupSteps', 0),
    minLr: positiveNumber(options.minLr, undefined, 'minLr', true),
    decayFraction: positiveNumber(options.decayFraction, 0.2, 'decayFraction', true)!,
    batchSize: integer(options.batchSize, 16, 'batchSize', 1)!,
    seqLen: integer(options.seqLen, 512, 'seqLen', 2)!,
    gradAccum: integer(options.gradAccum, 1, 'gradAccum', 1)!,
    maxGradNorm,
    precision,
    seed: integer(options.seed, 0, 'seed', 0)!,
    maxSteps: integer(options.maxSteps, undefined, 'maxSteps', 1),
    maxTokens: integer(options.maxTokens, undefined, 'maxTokens', 1),
    epochs: positiveNumber(options.epochs, undefined, 'epochs'),
    evalEvery,
    validationFraction,
    evalBatches: integer(options.evalBatches, 20, 'evalBatches', 1)!,
    saveEvery: integer(options.saveEvery, 0, 'saveEvery', 0)!,
    keepLast: integer(options.keepLast, 3, 'keepLast', 1)!,
    outDir: options.outDir,
    resume,
    signal: options.signal,
    distributed: distributedMode,
    diagnosticsEvery: integer(options.diagnosticsEvery, 10, 'diagnosticsEvery', 0)!,
    qkClip: checkQkClip(options.qkClip, 'options.qkClip'),
  };
}
