/**
 * Fine-tuning a pretrained Hugging Face folder on chat data (what `moonlight train --from DIR` runs): SFT with
 * assistant-only loss (src/train/sft_data.ts), full fine-tuning or LoRA (src/models/lora.ts), freezing by name
 * pattern, Muon or AdamW over the trainable tensors only. The loop is pre-training's (src/train/loop.ts):
 * checkpoints (the LoRA adapters alone, or every weight), exact resume, validation on a held-out share of the
 * conversations, diagnostics, a clean stop on a signal, data parallelism under `moonlight launch`. The run folder
 * gets run.json, metrics.jsonl, checkpoints/, and at the end:
 *   model/    a complete Hugging Face folder (config, generation config, weights, the tokenizer files copied):
 *             the fine-tuned weights, with LoRA adapters merged in;
 *   adapter/  (LoRA) the adapters in PEFT's layout, for PeftModel.from_pretrained on the base folder.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, MoonlightError } from '../errors';
import { CausalLM } from '../models/causal_lm';
import type { DType } from '../tensor/dtype';
import { LoraOptions, ResolvedLoraOptions, saveLoraAdapter } from '../models/lora';
import { loadTokenizer, Tokenizer } from '../data/tokenizer';
import { scoreBatches } from '../eval/perplexity';
import { chatTemplateFor, ChatMessage } from '../infer/chat_template';
import { EvaluationResult, LoopCadence, LoopParts, LoopResult, StepEvent, TrainingLoop } from './loop';
import { EvalMetricRecord, RunFolder, TrainMetricRecord } from './run_folder';
import { SftDataset, SftDatasetStats, SftSample, SftTemplate } from './sft_data';
import { sftSource, splitSamples, validationBatches } from './sft_source';
import { sumAcrossRanks } from './sum_across_ranks';
import { copyTokenizerFiles } from './tokenizer_files';
import { buildOptimizer, buildSchedule } from './trainer_setup';
import { DistributedMode, resolveDistributedMode } from './trainer_options';

export { copyTokenizerFiles };

export interface FineTuneOptions {
  /** The Hugging Face model folder to start from (its weights, config, tokenizer and chat template). */
  from: string;
  /** Chat JSONL file (messages or alpaca records) or conversations. */
  dataset: string | ChatMessage[][];
  /** Run folder (created). */
  outDir: string;
  /** Default: the folder's own chat template (Moonlight's for Moonlight tiktoken folders). */
  template?: SftTemplate;
  /** Default: the folder's own tokenizer. A Tokenizer, or what loadTokenizer takes ('byte', a file or folder, …). */
  tokenizer?: Tokenizer | string;
  /** Tokens per sample; longer samples are truncated (and counted). Default 512. */
  maxLength?: number;
  /** Pack samples into rows of maxLength instead of padding each batch. Default false. */
  packing?: boolean;
  /** LoRA adapters (base weights frozen); unset or null: full fine-tuning. */
  lora?: LoraOptions | null;
  /** Freeze the tensors whose names match (RegExp or its source), e.g. 'embed_tokens', 'mlp\\.gate\\.'. */
  freeze?: Array<string | RegExp>;
  optimizer?: 'muon' | 'adamw';
  lr?: number;
  weightDecay?: number;
  schedule?: 'cosine' | 'constant' | 'wsd';
  /** Default: a tenth of the run. */
  warmupSteps?: number;
  /** Final lr of cosine / WSD. Default 0 (cosine) and lr/10 (WSD). */
  minLr?: number;
  /** Samples per micro-batch (per rank under `moonlight launch`). Default 4. */
  batchSize?: number;
  gradAccum?: number;
  /** Optimizer steps (default: epochs over the training samples). */
  maxSteps?: number;
  epochs?: number;
  maxGradNorm?: number | null;
  precision?: 'fp32' | 'bf16-mixed';
  /** Seeds the data order, the validation split and LoRA's initialisation. Default 0. */
  seed?: number;
  /** Save the final model folder (default true). */
  saveModel?: boolean;

  /** Evaluate on the held-out conversations every N steps (and at the end). Default 0: never. */
  evalEvery?: number;
  /** Fraction of the samples held out for validation. Default 0.05 when evaluating, else 0. */
  validationFraction?: number;
  /** At most this many validation batches per evaluation. Default 20. */
  evalBatches?: number;
  /** Write a training checkpoint every N steps (and always at the end). Default 0: only at the end. */
  saveEvery?: number;
  /** Keep only the newest N checkpoints. Default 3. */
  keepLast?: number;
  /** Continue from the newest checkpoint of this run folder (true: of outDir), or from a checkpoint folder. */
  resume?: boolean | string;
  /** Stops cleanly after the current step, saving a checkpoint. */
  signal?: AbortSignal;
  /** The paper's diagnostics every N steps into metrics.jsonl. Default 0: never. */
  diagnosticsEvery?: number;
  /** Data parallelism over `moonlight launch`'s ranks (see TrainerOptions.distributed). */
  distributed?: DistributedMode;

  onStep?: (record: FineTuneStepRecord) => void;
  /** Called once before the first step with what is trained. */
  onStart?: (info: FineTuneStartInfo) => void;
  onEval?: (record: EvalMetricRecord) => void;
}

export interface FineTuneStepRecord extends TrainMetricRecord {
  totalSteps: number;
}

export interface FineTuneStartInfo {
  totalSteps: number;
  /**
   * dtype of the model's base weights: with LoRA the checkpoint's own (frozen; bf16 for Moonlight, the adapters
   * being float32), for full fine-tuning float32 master weights for the optimizer.
   */
  weightsDtype: DType;
  trainableParameters: number;
  frozen: string[];
  loraModules: string[];
  /** Bytes of optimizer state: only trainable tensors have any. */
  optimizerStateBytes: number;
  data: SftDatasetStats;
  /** Samples held out for validation. */
  validationSamples: number;
}

export interface FineTuneResult extends FineTuneStartInfo {
  runDir: string;
  status: 'completed' | 'aborted';
  steps: number;
  tokens: number;
  /** Assistant-token loss of the first step this process ran and of the last (NaN when none ran). */
  firstLoss: number;
  finalLoss: number;
  valLoss: number | null;
  /** The last checkpoint written. */
  checkpoint: string | null;
  elapsedSeconds: number;
  modelDir: string | null;
  adapterDir: string | null;
}

interface Settings {
  maxLength: number;
  batchSize: number;
  gradAccum: number;
  seed: number;
  evalEvery: number;
  validationFraction: number;
  evalBatches: number;
  saveEvery: number;
  keepLast: number;
  diagnosticsEvery: number;
  distributed: DistributedMode;
}

function integerOption(value: number | undefined, fallback: number, name: string, minimum: number): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < minimum) throw new ConfigError(`${name} is ${String(value)}; expected an integer >= ${minimum}`);
  return resolved;
}

function resolveSettings(options: FineTuneOptions): Settings {
  const evalEvery = integerOption(options.evalEvery, 0, 'evalEvery', 0);
  const validationFraction = options.validationFraction ?? (evalEvery > 0 ? 0.05 : 0);
  if (typeof validationFraction !== 'number' || !(validationFraction >= 0 && validationFraction < 1)) {
    throw new ConfigError(`validationFraction is ${String(options.validationFraction)}; expected a fraction in [0, 1)`);
  }
  if (evalEvery > 0 && validationFraction === 0) throw new ConfigError('evalEvery needs a validation split: set validationFraction above 0');
  return {
    maxLength: integerOption(options.maxLength, 512, 'maxLength', 2),
    batchSize: integerOption(options.batchSize, 4, 'batchSize', 1),
    gradAccum: integerOption(options.gradAccum, 1, 'gradAccum', 1),
    seed: integerOption(options.seed, 0, 'seed', 0),
    evalEvery,
    validationFraction,
    evalBatches: integerOption(options.evalBatches, 20, 'evalBatches', 1),
    saveEvery: integerOption(options.saveEvery, 0, 'saveEvery', 0),
    keepLast: integerOption(options.keepLast, 3, 'keepLast', 1),
    diagnosticsEvery: integerOption(options.diagnosticsEvery, 0, 'diagnosticsEvery', 0),
    distributed: resolveDistributedMode(options.distributed),
  };
}

/** A fine-tuning run: build it, optionally setup() and read startInfo, then fit(); dispose() at the end. */
export class FineTuner extends TrainingLoop<FineTuneResult> {
  readonly options: FineTuneOptions;
  protected readonly runKind = 'fine-tuning';
  readonly #settings: Settings;
  readonly #from: string;
  #tokenizer: Tokenizer | null = null;
  #validation: SftSample[] = [];
  #padTokenId = 0;
  #lora: ResolvedLoraOptions | null = null;
  #info: FineTuneStartInfo | null = null;

  constructor(options: FineTuneOptions) {
    super();
    this.options = options;
    this.#from = path.resolve(options.from);
    if (!fs.existsSync(path.join(this.#from, 'config.json'))) throw new ConfigError(`--from ${options.from}: not a Hugging Face model folder (no config.json)`);
    this.#settings = resolveSettings(options);
  }

  get tokenizer(): Tokenizer {
    return this.required(this.#tokenizer, 'tokenizer');
  }

  /** What is trained (after setup()). */
  get startInfo(): FineTuneStartInfo {
    return this.required(this.#info, 'start info');
  }

  protected cadence(): LoopCadence {
    const s = this.#settings;
    const resume = this.options.resume ?? false;
    return {
      evalEvery: s.evalEvery, saveEvery: s.saveEvery, keepLast: s.keepLast, diagnosticsEvery: s.diagnosticsEvery, signal: this.options.signal,
      distributed: s.distributed,
      resumeFrom: resume === false ? null : path.resolve(resume === true ? this.options.outDir : resume),
    };
  }

  protected async build(): Promise<LoopParts> {
    const options = this.options;
    const s = this.#settings;
    const spec = options.tokenizer;
    const tokenizer = typeof spec === 'object' ? spec : await loadTokenizer(spec ?? this.#from);
    this.#tokenizer = tokenizer;
    const template = options.template ?? chatTemplateFor(this.#from);
    const dataset = typeof options.dataset === 'string'
      ? SftDataset.fromFile(options.dataset, { tokenizer, template, maxLength: s.maxLength })
      : SftDataset.fromConversations(options.dataset, { tokenizer, template, maxLength: s.maxLength });
    const { train, validation } = splitSamples(dataset.samples, s.validationFraction, s.seed);
    this.#validation = validation;

    // Full fine-tuning updates every weight: fp32 master weights. LoRA leaves the base frozen: it stays in the
    // checkpoint's dtype (half the memory of fp32 for a bf16 checkpoint), the adapters being fp32.
    const weightsDtype = options.lora ? 'auto' : 'float32';
    const model = await CausalLM.fromPretrained(this.#from, { dtype: weightsDtype });
    try {
      this.#padTokenId = model.config.padTokenId ?? tokenizer.eosTokenId;
      const frozen = (options.freeze ?? []).flatMap((pattern) => model.freeze(pattern));
      const loraModules = options.lora ? model.attachLora(options.lora) : [];
      this.#lora = model.lora;
      const lr = options.lr ?? 1e-4;
      const optimizer = buildOptimizer({
        optimizer: { type: options.optimizer ?? 'muon', options: {} }, lr, weightDecay: options.weightDecay ?? 0, distributed: s.distributed,
      }, model, this.worldSize);
      const trainable = model.namedParameters();
      const trainableParameters = [...trainable.values()].reduce((sum, t) => sum + t.numel, 0);
      trainable.forEach((t) => t.dispose());

      const samplesPerStep = s.batchSize * s.gradAccum * this.worldSize;
      if (samplesPerStep > train.length) {
        throw new ConfigError(
          `one step needs ${samplesPerStep} samples (batch ${s.batchSize} × grad_accum ${s.gradAccum} × ${this.worldSize} ranks) but the ` +
            `training split has ${train.length}`,
        );
      }
      const stepsPerEpoch = Math.floor(train.length / samplesPerStep);
      const totalSteps = options.maxSteps ?? Math.max(1, Math.floor(stepsPerEpoch * (options.epochs ?? 1)));
      if (!Number.isSafeInteger(totalSteps) || totalSteps < 1) throw new ConfigError(`maxSteps is ${String(options.maxSteps)}; expected a positive integer`);
      const schedule = buildSchedule({
        schedule: options.schedule ?? 'cosine', warmupSteps: options.warmupSteps ?? Math.floor(totalSteps / 10), lr, minLr: options.minLr, decayFraction: 0.2,
      }, totalSteps);
      this.#info = {
        totalSteps, weightsDtype: model.dtype, trainableParameters, frozen, loraModules, optimizerStateBytes: optimizer.stateBytes(), data: dataset.stats,
        validationSamples: validation.length,
      };
      return {
        model, optimizer, schedule, totalSteps,
        data: sftSource(train, {
          batchSize: s.batchSize, gradAccum: s.gradAccum, seed: s.seed, rank: this.rank, worldSize: this.worldSize,
          packing: options.packing ?? false, maxLength: s.maxLength, padTokenId: this.#padTokenId,
        }),
        run: new RunFolder(options.outDir),
        identity: {
          modelConfig: JSON.parse(JSON.stringify(model.config.hf)) as Record<string, unknown>,
          tokenizer: { name: tokenizer.name, fingerprint: tokenizer.fingerprint },
          maxLength: s.maxLength, packing: options.packing ?? false, optimizer: options.optimizer ?? 'muon', seed: s.seed,
          lora: this.#lora === null ? null : { ...this.#lora, modules: undefined }, frozen,
          trainSamples: train.length, validationSamples: validation.length, assistantTokens: dataset.stats.assistantTokens,
        },
        savedWeights: options.lora ? 'lora' : 'model',
        flopsPerToken: 0,
        stepOptions: {
          precision: options.precision ?? 'fp32', maxGradNorm: options.maxGradNorm ?? undefined,
          // The routers' correction biases belong to the frozen base: an adapter folder could not carry their change.
          ...(options.lora ? { routerBiasUpdateRate: 0 } : {}),
        },
        seed: s.seed,
      };
    } catch (error) {
      model.dispose();
      throw error;
    }
  }

  protected describeRun(): Record<string, unknown> {
    const options = this.options;
    const s = this.#settings;
    return {
      kind: 'sft', from: this.#from,
      dataset: typeof options.dataset === 'string' ? path.resolve(options.dataset) : 'conversations', maxLength: s.maxLength,
      packing: options.packing ?? false, lora: this.#lora, optimizer: options.optimizer ?? 'muon', lr: options.lr ?? 1e-4,
      batchSize: s.batchSize, gradAccum: s.gradAccum, seed: s.seed, tokenizer: this.tokenizer.name, ...this.startInfo,
    };
  }

  protected async finish(result: LoopResult): Promise<FineTuneResult> {
    let adapterDir: string | null = null;
    let modelDir: string | null = null;
    if (this.rank === 0) {
      const model = this.model;
      if (this.options.lora) {
        adapterDir = path.join(result.runDir, 'adapter');
        await saveLoraAdapter(model, adapterDir, { baseModelNameOrPath: this.#from });
        copyTokenizerFiles(this.#from, adapterDir);
      }
      if (this.options.saveModel ?? true) {
        if (this.options.lora) model.mergeLora();
        modelDir = path.join(result.runDir, 'model');
        await model.savePretrained(modelDir);
        copyTokenizerFiles(this.#from, modelDir);
      }
    }
    return {
      ...this.startInfo, runDir: result.runDir, status: result.status, steps: result.steps, tokens: result.tokens,
      firstLoss: result.first?.lmLoss ?? NaN, finalLoss: result.last?.lmLoss ?? NaN, valLoss: result.valLoss, checkpoint: result.checkpoint,
      elapsedSeconds: result.elapsedSeconds, modelDir, adapterDir,
    };
  }

  /** Mean assistant-token loss over (at most evalBatches batches of) the held-out samples, in eval mode; ranks share the batches. */
  async evaluate(): Promise<EvaluationResult> {
    await this.setup();
    if (this.#validation.length === 0) throw new MoonlightError('there is no validation split: set validationFraction (evalEvery sets 0.05)');
    const s = this.#settings;
    const local = await scoreBatches(this.model, validationBatches(this.#validation, {
      batchSize: s.batchSize, maxBatches: s.evalBatches, padTokenId: this.#padTokenId, rank: this.rank, worldSize: this.worldSize,
    }));
    const [nats, tokens] = await sumAcrossRanks([local.nats, local.tokens], this.worldSize);
    const loss = nats / tokens;
    return { loss, perplexity: Math.exp(loss), tokens };
  }

  /** Frees the model, the optimizer state and a tokenizer this run loaded. */
  dispose(): void {
    const parts = this.partsIfBuilt();
    parts?.optimizer.dispose();
    parts?.model.dispose();
    if (typeof this.options.tokenizer !== 'object') this.#tokenizer?.dispose();
    this.#tokenizer = null;
    this.releaseParts();
  }
}

/** Runs a fine-tuning to its end (see FineTuner) and frees everything it built. */
export async function fineTune(options: FineTuneOptions): Promise<FineTuneResult> {
  const tuner = new FineTuner(options);
  if (options.onStep) tuner.on('step', (event: StepEvent) => options.onStep!(event));
  if (options.onEval) tuner.on('eval', (record: EvalMetricRecord) => options.onEval!(record));
  try {
    await tuner.setup();
    options.onStart?.(tuner.startInfo);
    return await tuner.fit();
  } finally {
    tuner.dispose();
  }
}
