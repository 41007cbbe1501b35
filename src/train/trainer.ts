/**
 * Trainer: a training run scripted from TypeScript (and what `moonlight train` runs). Each optimizer step
 * is one native job off the JS thread (micro-batches, clipping, Muon/AdamW, routing-bias update); the next
 * step's batches are gathered from the memory-mapped token cache while the current step runs. Metrics go
 * to metrics.jsonl, to 'step' / 'eval' events and to the metrics() async iterator; checkpoints hold the
 * model, the optimizer state and the exact data position, so a resumed run continues bit for bit.
 */
import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as path from 'path';
import { CheckpointError, MoonlightError } from '../errors';
import { checkpointsFolder, loadTrainingCheckpoint, listTrainingCheckpoints, saveTrainingCheckpoint } from '../io/training_checkpoint';
import type { CausalLM, OptimizerStepMetrics } from '../models/causal_lm';
import type { Optimizer } from '../optim/optimizer';
import type { LrSchedule } from '../optim/schedule';
import type { Tensor } from '../tensor/tensor';
import { BatchSampler, SamplerState } from '../data/batch_sampler';
import { resolveDataset } from '../data/default_corpus';
import { TokenDataset } from '../data/token_dataset';
import type { Tokenizer } from '../data/tokenizer';
import { distributed } from '../dist/distributed';
import { tensor } from '../tensor/factories';
import { trainingFlopsPerToken } from './flops';
import { diagnosticRecordFields } from './step_diagnostics';
import type { StepDiagnostics } from './step_diagnostics';
import { EvalMetricRecord, MetricRecord, RunFolder, TrainMetricRecord } from './run_folder';
import { buildModel, buildOptimizer, buildSchedule, plannedSteps, resolveTokenizer } from './trainer_setup';
import { ResolvedTrainerOptions, resolveTrainerOptions, TrainerOptions } from './trainer_options';
import { compatibilityProblems, RunIdentity, runIdentity } from './run_identity';
import { copyTokenizerFiles } from './fine_tune';

export interface StepEvent extends TrainMetricRecord {
  totalSteps: number;
  /** MoE layer indices and, per layer, the tokens routed to each expert in this step. */
  moeLayers: number[];
  expertLoad: number[][];
  /** On diagnostic steps (options.diagnosticsEvery): everything measured, per head and per matrix type. */
  diagnostics?: StepDiagnostics;
}

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

export interface EvaluationResult {
  loss: number;
  perplexity: number;
  tokens: number;
}

interface TrainerState {
  step: number;
  tokens: number;
  elapsedSeconds: number;
  sampler: SamplerState;
}

const trainerStateVersion = 1;

export class Trainer extends EventEmitter {
  readonly options: ResolvedTrainerOptions;
  #tokenizer: Tokenizer | null = null;
  #dataset: TokenDataset | null = null;
  #model: CausalLM | null = null;
  #optimizer: Optimizer | null = null;
  #schedule: LrSchedule | null = null;
  #run: RunFolder | null = null;
  #identity: RunIdentity | null = null;
  #totalSteps = 0;
  #flopsPerToken = 0;
  #state: TrainerState = { step: 0, tokens: 0, elapsedSeconds: 0, sampler: { seed: 0, epoch: 0, offset: 0 } };
  #stopRequested = false;
  #running = false;
  #setup: Promise<void> | null = null;
  #setupDone = false;
  #lastCheckpoint: string | null = null;
  #lastValLoss: number | null = null;
  /** Data-parallel rank and world size (0 and 1 for a single process). Rank 0 alone writes files. */
  #rank = 0;
  #worldSize = 1;

  constructor(options: TrainerOptions = {}) {
    super();
    this.options = resolveTrainerOptions(options);
  }

  get model(): CausalLM {
    return this.#required(this.#model, 'model');
  }

  get tokenizer(): Tokenizer {
    return this.#required(this.#tokenizer, 'tokenizer');
  }

  get dataset(): TokenDataset {
    return this.#required(this.#dataset, 'dataset');
  }

  get optimizer(): Optimizer {
    return this.#required(this.#optimizer, 'optimizer');
  }

  get runDir(): string {
    return this.#required(this.#run, 'run folder').path;
  }

  get totalSteps(): number {
    return this.#totalSteps;
  }

  /** This process's data-parallel rank (0 for a single process); only rank 0 writes the run folder. */
  get rank(): number {
    return this.#rank;
  }

  get worldSize(): number {
    return this.#worldSize;
  }

  /** Optimizer steps done so far (including those before a resume). */
  get step(): number {
    return this.#state.step;
  }

  #required<T>(value: T | null, what: string): T {
    if (value === null) throw new MoonlightError(`the trainer's ${what} exists after setup(): await trainer.setup() or fit() first`);
    return value;
  }

  /** Builds tokenizer, token cache, model, optimizer, schedule and run folder; resumes when asked. Idempotent. */
  setup(): Promise<void> {
    this.#setup ??= this.#doSetup();
    return this.#setup;
  }

  async #doSetup(): Promise<void> {
    const o = this.options;
    if (o.distributed !== 'off') {
      if (!distributed.isInitialized) await distributed.init();
      this.#rank = distributed.rank;
      this.#worldSize = distributed.worldSize;
    }
    const tokenizer = await resolveTokenizer(o);
    this.#tokenizer = tokenizer;
    const files = (Array.isArray(o.dataset) ? o.dataset : [o.dataset]).flatMap((spec) => resolveDataset(spec).files);
    this.#dataset = await TokenDataset.prepare(files, {
      tokenizer, seqLen: o.seqLen, validationFraction: o.validationFraction, cacheDir: o.cacheDir, textField: o.textField,
      onProgress: (documents: number, tokens: number, bytesRead: number, totalBytes: number) =>
        this.emit('prepare', { documents, tokens, bytesRead, totalBytes } satisfies PrepareEvent),
    });
    this.#totalSteps = plannedSteps(o, this.#dataset.numSequences('train'), this.#worldSize);
    const built = await buildModel(o, tokenizer);
    this.#model = built.model;
    this.#model.train();
    this.#optimizer = buildOptimizer(o, this.#model, this.#worldSize);
    this.#schedule = buildSchedule(o, this.#totalSteps);
    this.#flopsPerToken = trainingFlopsPerToken(this.#model.config, o.seqLen);
    this.#identity = runIdentity(o, this.#model, tokenizer, this.#dataset);
    this.#state.sampler = { seed: o.seed, epoch: 0, offset: 0 };

    const runDir = this.#runFolderPath(built.source);
    this.#run = new RunFolder(runDir);
    const resumeFrom = o.resume === false ? null : o.resume === true ? this.#run.path : path.resolve(o.resume);
    if (resumeFrom !== null) {
      await this.#resume(resumeFrom);
    } else if (listTrainingCheckpoints(this.#run.path).length > 0) {
      throw new CheckpointError(
        `the run folder ${this.#run.path} already has checkpoints: resume it (--resume / resume: true) or pick another --out`,
      );
    }
    if (this.#rank === 0) {
      this.#run.ensure();
      this.#run.resetMetrics(this.#state.step);
      this.#writeRun('running', built.source);
    }
    this.#setupDone = true;
  }

  #runFolderPath(modelSource: string): string {
    if (this.options.outDir !== undefined) return path.resolve(this.options.outDir);
    const modelName = path.basename(modelSource).replace(/\.json$/, '').replace(/[^A-Za-z0-9._-]+/g, '-');
    return path.resolve('runs', `${modelName}_${this.options.optimizer.type}_lr${this.options.lr}`);
  }

  async #resume(location: string): Promise<void> {
    const checkpoints = listTrainingCheckpoints(location);
    const checkpointPath = checkpoints.length > 0 ? checkpoints[checkpoints.length - 1].path : location;
    let checkpoint;
    try {
      checkpoint = await loadTrainingCheckpoint(checkpointPath);
    } catch (error) {
      if (checkpoints.length === 0 && error instanceof MoonlightError) {
        throw new CheckpointError(`nothing to resume at ${location}: no training checkpoint there (${error.message})`);
      }
      throw error;
    }
    const saved = checkpoint.state as { version?: number; identity?: RunIdentity; trainer?: TrainerState };
    if (saved.version !== trainerStateVersion || saved.identity === undefined || saved.trainer === undefined) {
      throw new CheckpointError(`${checkpoint.path} was not written by a Trainer (no trainer state): cannot resume from it`);
    }
    const problems = compatibilityProblems(saved.identity, this.#identity!);
    if (problems.length > 0) {
      throw new CheckpointError(`cannot resume from ${checkpoint.path}: ${problems.join('; ')}. Match those settings or start a new --out`);
    }
    try {
      this.model.loadStateDict(checkpoint.model);
      this.optimizer.loadStateDict(checkpoint.optimizer);
    } catch (error) {
      throw new CheckpointError(`cannot resume from ${checkpoint.path}: ${(error as Error).message}`);
    } finally {
      for (const t of [...Object.values(checkpoint.model), ...Object.values(checkpoint.optimizer)]) t.dispose();
    }
    this.#state = { ...saved.trainer };
    this.#lastCheckpoint = checkpoint.path;
    if (this.#state.step > this.#totalSteps) {
      throw new CheckpointError(`${checkpoint.path} is at step ${this.#state.step}, past this run's ${this.#totalSteps} steps: raise --steps`);
    }
  }

  #writeRun(status: string, modelSource?: string, extra: Record<string, unknown> = {}): void {
    if (this.#rank !== 0) return;
    const previous = this.#run!.readRun() ?? {};
    const model = this.model;
    this.#run!.writeRun({
      ...previous,
      name: path.basename(this.#run!.path),
      createdAt: previous.createdAt ?? new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      status,
      model: {
        source: modelSource ?? (previous.model as { source?: string } | undefined)?.source,
        type: model.config.modelType,
        numParameters: model.numParameters(),
        activatedParameters: model.numParameters({ activatedOnly: true }),
        config: model.config.hf,
      },
      tokenizer: { name: this.tokenizer.name, vocabSize: this.tokenizer.vocabSize, fingerprint: this.tokenizer.fingerprint },
      dataset: {
        sources: this.options.dataset, cache: this.dataset.cachePath, tokens: this.dataset.numTokens,
        trainSequences: this.dataset.numSequences('train'), validationSequences: this.dataset.numSequences('validation'),
      },
      optimizer: { type: this.options.optimizer.type, lr: this.options.lr, weightDecay: this.options.weightDecay, ...this.options.optimizer.options },
      schedule: typeof this.options.schedule === 'string'
        ? { type: this.options.schedule, ...(this.#schedule as unknown as Record<string, unknown>) }
        : { type: 'custom' },
      batchSize: this.options.batchSize,
      seqLen: this.options.seqLen,
      gradAccum: this.options.gradAccum,
      maxGradNorm: this.options.maxGradNorm,
      precision: this.options.precision,
      seed: this.options.seed,
      worldSize: this.#worldSize,
      distributed: this.#worldSize > 1 ? this.options.distributed : 'off',
      totalSteps: this.#totalSteps,
      flopsPerToken: this.#flopsPerToken,
      ...extra,
    });
  }

  /** Requests a clean stop after the current step (as options.signal does). */
  stop(): void {
    this.#stopRequested = true;
  }

  /** Runs the training loop to the planned end (or a stop), then writes a final checkpoint. */
  async fit(): Promise<FitResult> {
    if (this.#running) throw new MoonlightError('fit() is already running on this trainer');
    this.#running = true;
    try {
      await this.setup();
      return await this.#loop();
    } catch (error) {
      // A run that never started (bad options, an incompatible checkpoint) leaves its folder as it was.
      if (this.#setupDone) this.#writeRun('failed', undefined, { error: (error as Error).message });
      this.emit('error-stop', error);
      throw error;
    } finally {
      this.#running = false;
      if (this.#rank === 0) this.#run?.close();
      this.emit('end');
    }
  }

  #stopping(): boolean {
    return this.#stopRequested || this.options.signal?.aborted === true;
  }

  async #loop(): Promise<FitResult> {
    const o = this.options;
    const model = this.model;
    const optimizer = this.optimizer;
    const schedule = this.#schedule!;
    // Every rank walks the same global order; rank r trains on its slice of each global batch.
    const sampler = new BatchSampler(this.dataset, { batchSize: o.batchSize * this.#worldSize, seed: o.seed, state: this.#state.sampler });
    const slice = (indices: Uint32Array): Uint32Array => indices.subarray(this.#rank * o.batchSize, (this.#rank + 1) * o.batchSize);
    const startedAt = process.hrtime.bigint();
    const elapsedBefore = this.#state.elapsedSeconds;
    const elapsed = (): number => elapsedBefore + Number(process.hrtime.bigint() - startedAt) / 1e9;

    // The batches of a step and the sampler position after drawing them (what a checkpoint after it stores).
    const draw = (): { batches: Promise<Tensor[]>; samplerAfter: SamplerState } => {
      const indices = Array.from({ length: o.gradAccum }, () => slice(sampler.next().indices));
      return { batches: Promise.all(indices.map((i) => this.dataset.batch('train', i))), samplerAfter: sampler.state() };
    };

    let lastLoss: number | null = null;
    let next = this.#state.step < this.#totalSteps ? draw() : null;
    let status: FitResult['status'] = 'completed';
    while (next !== null && this.#state.step < this.#totalSteps) {
      if (await this.#agreeToStop()) {
        status = 'aborted';
        await next.batches.then((b) => b.forEach((t) => t.dispose()));
        break;
      }
      const current = next;
      const batches = await current.batches;
      const step = this.#state.step;
      const lr = schedule.lrAt(step);
      optimizer.setLr(lr);
      const stepStarted = process.hrtime.bigint();
      const running = model.trainStepAccumulated(batches.map((ids) => ({ inputIds: ids, labels: ids })), optimizer, {
        precision: o.precision, maxGradNorm: o.maxGradNorm ?? undefined,
        diagnostics: o.diagnosticsEvery > 0 && (step % o.diagnosticsEvery === 0 || step + 1 === this.#totalSteps),
        qkClip: o.qkClip,
      });
      // Gather the next step's batches while this one runs.
      next = step + 1 < this.#totalSteps ? draw() : null;
      let metrics: OptimizerStepMetrics;
      try {
        metrics = await running;
      } finally {
        batches.forEach((t) => t.dispose());
      }
      metrics = await this.#acrossRanks(metrics);
      const stepSeconds = Number(process.hrtime.bigint() - stepStarted) / 1e9;
      this.#state = { step: step + 1, tokens: this.#state.tokens + metrics.tokens, elapsedSeconds: elapsed(), sampler: current.samplerAfter };
      lastLoss = metrics.loss;
      this.#recordStep(metrics, lr, stepSeconds, current.samplerAfter.epoch);
      const atEnd = this.#state.step === this.#totalSteps;
      if (o.evalEvery > 0 && (this.#state.step % o.evalEvery === 0 || atEnd)) await this.#recordEval(elapsed());
      if (o.saveEvery > 0 && this.#state.step % o.saveEvery === 0 && !atEnd) await this.#checkpoint();
    }
    if (next !== null) await next.batches.then((b) => b.forEach((t) => t.dispose()));
    if (this.#state.step > 0 && this.#lastCheckpointStep() !== this.#state.step) await this.#checkpoint();
    this.#state.elapsedSeconds = elapsed();
    const result: FitResult = {
      runDir: this.runDir, status, steps: this.#state.step, totalSteps: this.#totalSteps, tokens: this.#state.tokens,
      finalLoss: lastLoss, valLoss: this.#lastValLoss, checkpoint: this.#lastCheckpoint, elapsedSeconds: this.#state.elapsedSeconds,

      modelDir: await this.#saveFinalModel(),
    };
    this.#writeRun(status, undefined, { result });
    return result;
  }

  /** A run that started from a Hugging Face folder ends with a complete one: weights, config, the tokenizer files. */
  async #saveFinalModel(): Promise<string | null> {
    const source = this.options.model;
    if (this.#rank !== 0 || typeof source !== 'string' || !fs.existsSync(path.join(source, 'config.json'))) return null;
    const modelDir = path.join(this.runDir, 'model');
    await this.model.savePretrained(modelDir);
    copyTokenizerFiles(path.resolve(source), modelDir);
    return modelDir;
  }

  /** Whether to stop now: asked locally, or (distributed) on any rank, so that all ranks stop at the same step. */
  async #agreeToStop(): Promise<boolean> {
    const local = this.#stopping() ? 1 : 0;
    if (this.#worldSize === 1) return local === 1;
    const flag = tensor([local], { dtype: 'float64' });
    const total = await distributed.allReduce(flag, 'sum');
    const anyRank = total.item() > 0;
    flag.dispose();
    total.dispose();
    return anyRank;
  }

  /**
   * Losses averaged and tokens summed over the ranks. The gradient norm is global already, and so is the
   * expert load (the native step sums it over the ranks before the routing-bias update).
   */
  async #acrossRanks(metrics: OptimizerStepMetrics): Promise<OptimizerStepMetrics> {
    if (this.#worldSize === 1) return metrics;
    const local = tensor([metrics.loss, metrics.lmLoss, metrics.auxLoss, metrics.tokens], { dtype: 'float64' });
    const summed = await distributed.allReduce(local, 'sum');
    const [loss, lmLoss, auxLoss, tokens] = summed.toNumbers();
    local.dispose();
    summed.dispose();
    const mean = (value: number): number => value / this.#worldSize;
    return { ...metrics, loss: mean(loss), lmLoss: mean(lmLoss), auxLoss: mean(auxLoss), tokens };
  }

  #lastCheckpointStep(): number | null {
    if (this.#lastCheckpoint === null) return null;
    const match = /step-(\d+)$/.exec(this.#lastCheckpoint);
    return match ? Number(match[1]) : null;
  }

  #recordStep(metrics: OptimizerStepMetrics, lr: number, stepSeconds: number, epoch: number): void {
    const loadRatios = metrics.expertLoad.map((load) => {
      const mean = load.reduce((a, b) => a + b, 0) / Math.max(1, load.length);
      return mean > 0 ? Math.max(...load) / mean : 1;
    });
    const record: TrainMetricRecord = {
      type: 'train', step: this.#state.step, epoch, tokens: this.#state.tokens, flops: this.#state.tokens * this.#flopsPerToken,
      loss: metrics.loss, lmLoss: metrics.lmLoss, auxLoss: metrics.auxLoss, lr, gradNorm: metrics.gradNorm,
      clipCoefficient: metrics.clipCoefficient, tokensPerSecond: metrics.tokens / stepSeconds, stepSeconds,
      elapsedSeconds: this.#state.elapsedSeconds,
      ...(loadRatios.length > 0 ? { expertLoadMaxOverMean: loadRatios.reduce((a, b) => a + b, 0) / loadRatios.length } : {}),
      ...diagnosticRecordFields(metrics.diagnostics, metrics.qkClippedHeads),
    };
    if (this.#rank === 0) this.#run!.appendMetric(record);
    const event: StepEvent = { ...record, totalSteps: this.#totalSteps, moeLayers: metrics.moeLayers, expertLoad: metrics.expertLoad,
      ...(metrics.diagnostics ? { diagnostics: metrics.diagnostics } : {}) };
    this.emit('step', event);
    this.emit('metric', event);
  }

  async #recordEval(elapsedSeconds: number): Promise<void> {
    const evaluation = await this.evaluate();
    this.#lastValLoss = evaluation.loss;
    const record: EvalMetricRecord = {
      type: 'eval', step: this.#state.step, tokens: this.#state.tokens, flops: this.#state.tokens * this.#flopsPerToken,
      valLoss: evaluation.loss, valPerplexity: evaluation.perplexity, valTokens: evaluation.tokens, elapsedSeconds,
    };
    if (this.#rank === 0) this.#run!.appendMetric(record);
    this.emit('eval', record);
    this.emit('metric', record);
  }

  /** Mean next-token loss over (at most evalBatches batches of) the validation split, in eval mode. */
  async evaluate(): Promise<EvaluationResult> {
    await this.setup();
    const dataset = this.dataset;
    const sequences = dataset.numSequences('validation');
    if (sequences === 0) throw new MoonlightError('there is no validation split: set validationFraction (--eval_every sets 0.05)');
    const model = this.model;
    model.eval();
    let weightedLoss = 0;
    let tokens = 0;
    try {
      let batches = 0;
      for (const indices of dataset.evalBatches(this.options.batchSize)) {
        if (batches++ >= this.options.evalBatches) break;
        if ((batches - 1) % this.#worldSize !== this.#rank) continue; // each rank scores its share
        const ids = await dataset.batch('validation', indices);
        try {
          const { logits, loss } = await model.forward(ids, { labels: ids });
          const batchTokens = ids.shape[0] * (ids.shape[1] - 1);
          weightedLoss += loss!.item() * batchTokens;
          tokens += batchTokens;
          logits.dispose();
          loss!.dispose();
        } finally {
          ids.dispose();
        }
      }
    } finally {
      model.train();
    }
    if (this.#worldSize > 1) {
      const local = tensor([weightedLoss, tokens], { dtype: 'float64' });
      const summed = await distributed.allReduce(local, 'sum');
      [weightedLoss, tokens] = summed.toNumbers();
      local.dispose();
      summed.dispose();
    }
    const loss = weightedLoss / tokens;
    return { loss, perplexity: Math.exp(loss), tokens };
  }

  async #checkpoint(): Promise<void> {
    const step = this.#state.step;
    // A distributed optimizer's state is gathered whole (a collective: every rank takes part), so the
    // checkpoint resumes on any number of ranks; the weights are the same on every rank.
    const optimizerState = this.#worldSize > 1 ? await this.optimizer.fullStateDict() : this.optimizer.stateDict();
    const folder = path.join(checkpointsFolder(this.runDir), `step-${String(step).padStart(8, '0')}`);
    if (this.#rank === 0) {
      await saveTrainingCheckpoint(this.runDir, step, {
        model: this.model.stateDict(),
        optimizer: optimizerState,
        state: { version: trainerStateVersion, identity: this.#identity, trainer: this.#state },
      }, { keepLast: this.options.keepLast });
    }
    if (this.#worldSize > 1) Object.values(optimizerState).forEach((t) => t.dispose());
    this.#lastCheckpoint = folder;
    this.emit('checkpoint', { step, path: folder });
  }

  /** Every train / eval record from now until fit() ends, as an async iterator. */
  async *metrics(): AsyncGenerator<StepEvent | EvalMetricRecord> {
    const queue: Array<StepEvent | EvalMetricRecord> = [];
    let wake: (() => void) | null = null;
    let ended = false;
    const onMetric = (record: StepEvent | EvalMetricRecord): void => {
      queue.push(record);
      wake?.();
    };
    const onEnd = (): void => {
      ended = true;
      wake?.();
    };
    this.on('metric', onMetric);
    this.on('end', onEnd);
    try {
      while (true) {
        if (queue.length > 0) {
          yield queue.shift()!;
        } else if (ended) {
          return;
        } else {
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
        }
      }
    } finally {
      this.off('metric', onMetric);
      this.off('end', onEnd);
    }
  }

  /** Frees the model, the optimizer's and the dataset's native memory. */
  dispose(): void {
    if (!(this.options.model instanceof Object && 'forward' in this.options.model)) this.#model?.dispose();
    this.#dataset?.dispose();
    if (typeof this.options.tokenizer !== 'object') this.#tokenizer?.dispose();
    this.#optimizer?.dispose();
    this.#optimizer = null;
    this.#model = null;
    this.#dataset = null;
  }
}

export type { MetricRecord };
