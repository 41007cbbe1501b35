/**
 * Trainer: a training run scripted from TypeScript (and what `moonlight train` runs). Each optimizer step
 * is one native job off the JS thread (micro-batches, clipping, Muon/AdamW, routing-bias update); the next
 * step's batches are gathered from the memory-mapped token cache while the current step runs. Metrics go
 * to metrics.jsonl, to 'step' / 'eval' events and to the metrics() async iterator; checkpoints hold the
 * model, the optimizer state and the exact data position, so a resumed run continues bit for bit. The loop
 * itself is src/train/loop.ts (shared with fine-tuning); this file builds pre-training's parts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { MoonlightError } from '../errors';
import { resolveDataset } from '../data/default_corpus';
import { TokenDataset } from '../data/token_dataset';
import type { Tokenizer } from '../data/tokenizer';
import { evaluatePerplexity } from '../eval/perplexity';
import { trainingFlopsPerToken } from './flops';
import { EvaluationResult, LoopCadence, LoopParts, LoopResult, StepEvent, TrainingLoop } from './loop';
import { EvalMetricRecord, MetricRecord, RunFolder } from './run_folder';
import { buildModel, buildOptimizer, buildSchedule, groupLrScales, plannedSteps, resolveTokenizer } from './trainer_setup';
import { ResolvedTrainerOptions, resolveTrainerOptions, TrainerOptions } from './trainer_options';
import { runIdentity } from './run_identity';
import { sumAcrossRanks } from './sum_across_ranks';
import { tokenCacheSource } from './token_cache_source';
import { copyTokenizerFiles } from './tokenizer_files';

export interface PrepareEvent {
  documents: number;
  tokens: number;
  bytesRead: number;
  totalBytes: number;
}

export interface FitResult {
  runDir: string;
  status: 'completed' | 'aborted';
  steps: number;
  totalSteps: number;
  tokens: number;
  finalLoss: number | null;
  valLoss: number | null;
  /** The last checkpoint written (null if none). */
  checkpoint: string | null;
  elapsedSeconds: number;
  /** A run from a Hugging Face folder ends with a complete one in <runDir>/model (weights, config, tokenizer files). */
  modelDir?: string | null;
}

export class Trainer extends TrainingLoop<FitResult> {
  readonly options: ResolvedTrainerOptions;
  protected readonly runKind = 'pre-training';
  #tokenizer: Tokenizer | null = null;
  #dataset: TokenDataset | null = null;
  #modelSource = '';

  constructor(options: TrainerOptions = {}) {
    super();
    this.options = resolveTrainerOptions(options);
  }

  get tokenizer(): Tokenizer {
    return this.required(this.#tokenizer, 'tokenizer');
  }

  get dataset(): TokenDataset {
    return this.required(this.#dataset, 'dataset');
  }

  protected cadence(): LoopCadence {
    const o = this.options;
    const runDir = this.#runFolderPath();
    return {
      evalEvery: o.evalEvery, saveEvery: o.saveEvery, keepLast: o.keepLast, diagnosticsEvery: o.diagnosticsEvery, signal: o.signal,
      distributed: o.distributed,
      resumeFrom: o.resume === false ? null : o.resume === true ? runDir : path.resolve(o.resume),
    };
  }

  /** Builds tokenizer, token cache, model, optimizer, schedule and run folder. */
  protected async build(): Promise<LoopParts> {
    const o = this.options;
    const tokenizer = await resolveTokenizer(o);
    this.#tokenizer = tokenizer;
    const files = (Array.isArray(o.dataset) ? o.dataset : [o.dataset]).flatMap((spec) => resolveDataset(spec).files);
    const dataset = await TokenDataset.prepare(files, {
      tokenizer, seqLen: o.seqLen, validationFraction: o.validationFraction, cacheDir: o.cacheDir, textField: o.textField,
      onProgress: (documents: number, tokens: number, bytesRead: number, totalBytes: number) =>
        this.emit('prepare', { documents, tokens, bytesRead, totalBytes } satisfies PrepareEvent),
    });
    this.#dataset = dataset;
    const totalSteps = plannedSteps(o, dataset.numSequences('train'), this.worldSize);
    const built = await buildModel(o, tokenizer);
    this.#modelSource = built.source;
    const model = built.model;
    return {
      model,
      optimizer: buildOptimizer(o, model, this.worldSize),
      schedule: buildSchedule(o, totalSteps),
      totalSteps,
      data: tokenCacheSource(dataset, { batchSize: o.batchSize, gradAccum: o.gradAccum, seed: o.seed, rank: this.rank, worldSize: this.worldSize }),
      run: new RunFolder(this.#runFolderPath()),
      identity: { ...runIdentity(o, model, tokenizer, dataset) },
      savedWeights: 'model',
      flopsPerToken: trainingFlopsPerToken(model.config, o.seqLen),
      stepOptions: { precision: o.precision, maxGradNorm: o.maxGradNorm ?? undefined, qkClip: o.qkClip },
      seed: o.seed,
      groupLrScales: groupLrScales(o),
    };
  }

  #runFolderPath(): string {
    if (this.options.outDir !== undefined) return path.resolve(this.options.outDir);
    const modelName = path.basename(this.#modelSource).replace(/\.json$/, '').replace(/[^A-Za-z0-9._-]+/g, '-');
    return path.resolve('runs', `${modelName}_${this.options.optimizer.type}_lr${this.options.lr}`);
  }

  protected describeRun(): Record<string, unknown> {
    const o = this.options;
    const model = this.model;
    const schedule = this.parts.schedule;
    return {
      model: {
        source: this.#modelSource, type: model.config.modelType, numParameters: model.numParameters(),
        activatedParameters: model.numParameters({ activatedOnly: true }), config: model.config.hf,
      },
      tokenizer: { name: this.tokenizer.name, vocabSize: this.tokenizer.vocabSize, fingerprint: this.tokenizer.fingerprint },
      dataset: {
        sources: o.dataset, cache: this.dataset.cachePath, tokens: this.dataset.numTokens,
        trainSequences: this.dataset.numSequences('train'), validationSequences: this.dataset.numSequences('validation'),
      },
      optimizer: {
        type: o.optimizer.type, lr: o.lr, weightDecay: o.weightDecay, ...o.optimizer.options,
        ...(Object.keys(o.updateScaleByMatrixType).length > 0 ? { updateScaleByMatrixType: o.updateScaleByMatrixType } : {}),
      },
      schedule: typeof o.schedule === 'string' ? { type: o.schedule, ...(schedule as unknown as Record<string, unknown>) } : { type: 'custom' },
      batchSize: o.batchSize,
      seqLen: o.seqLen,
      gradAccum: o.gradAccum,
      maxGradNorm: o.maxGradNorm,
      precision: o.precision,
      seed: o.seed,
      flopsPerToken: this.parts.flopsPerToken,
    };
  }

  protected async finish(result: LoopResult): Promise<FitResult> {
    return {
      runDir: result.runDir, status: result.status, steps: result.steps, totalSteps: result.totalSteps, tokens: result.tokens,
      finalLoss: result.last?.loss ?? null, valLoss: result.valLoss, checkpoint: result.checkpoint, elapsedSeconds: result.elapsedSeconds,
      modelDir: await this.#saveFinalModel(),
    };
  }

  /** A run that started from a Hugging Face folder ends with a complete one: weights, config, the tokenizer files. */
  async #saveFinalModel(): Promise<string | null> {
    const source = this.options.model;
    if (this.rank !== 0 || typeof source !== 'string' || !fs.existsSync(path.join(source, 'config.json'))) return null;
    const modelDir = path.join(this.runDir, 'model');
    await this.model.savePretrained(modelDir);
    copyTokenizerFiles(path.resolve(source), modelDir);
    return modelDir;
  }

  /** Mean next-token loss over (at most evalBatches batches of) the validation split, in eval mode; ranks share the batches. */
  async evaluate(): Promise<EvaluationResult> {
    await this.setup();
    const dataset = this.dataset;
    if (dataset.numSequences('validation') === 0) throw new MoonlightError('there is no validation split: set validationFraction (--eval_every sets 0.05)');
    const o = this.options;
    const local = await evaluatePerplexity(this.model, dataset, {
      tokenizer: this.tokenizer, seqLen: o.seqLen, batchSize: o.batchSize, maxBatches: o.evalBatches, split: 'validation',
      shard: { rank: this.rank, worldSize: this.worldSize },
    });
    const [nats, tokens] = await sumAcrossRanks([local.nats, local.tokens], this.worldSize);
    const loss = nats / tokens;
    return { loss, perplexity: Math.exp(loss), tokens };
  }

  /** Frees the model, the optimizer's and the dataset's native memory. */
  dispose(): void {
    const parts = this.partsIfBuilt();
    if (!(this.options.model instanceof Object && 'forward' in this.options.model)) parts?.model.dispose();
    this.#dataset?.dispose();
    if (typeof this.options.tokenizer !== 'object') this.#tokenizer?.dispose();
    parts?.optimizer.dispose();
    this.releaseParts();
    this.#dataset = null;
  }
}

export type { EvaluationResult, EvalMetricRecord, MetricRecord, StepEvent };
