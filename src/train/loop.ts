/**
 * The training loop of every run: pre-training (Trainer) and fine-tuning (FineTuner) are configurations of it. A
 * subclass builds the parts — model, optimizer, lr schedule, a data source with a serialisable position, the run
 * folder — and says what the run is; the loop does the rest the same way for both:
 *   - each optimizer step is one native job off the JS thread; the next step's batches are gathered meanwhile;
 *   - metrics go to metrics.jsonl, to 'step' / 'eval' / 'metric' events and to the metrics() async iterator;
 *   - validation every evalEvery steps and at the end; the paper's diagnostics every diagnosticsEvery steps;
 *   - checkpoints every saveEvery steps (the newest keepLast kept) and at the end: the weights (or the LoRA
 *     adapters alone: the base stays frozen), the optimizer state, the data position, the step counters and
 *     libtorch's random generator states, so a resumed run continues bit for bit;
 *   - stop() or an AbortSignal stops after the current step with a checkpoint, every data-parallel rank at the
 *     same step (`moonlight launch`: rank r trains on its slice of each global batch; rank 0 alone writes files).
 */
import { EventEmitter } from 'events';
import * as path from 'path';
import { CheckpointError, MoonlightError } from '../errors';
import { checkpointsFolder, listTrainingCheckpoints, loadTrainingCheckpoint, saveTrainingCheckpoint } from '../io/training_checkpoint';
import type { AccumulatedStepOptions, CausalLM, OptimizerStepMetrics } from '../models/causal_lm';
import { loraTensors } from '../models/lora';
import type { Optimizer } from '../optim/optimizer';
import type { LrSchedule } from '../optim/schedule';
import type { Tensor } from '../tensor/tensor';
import { distributed } from '../dist/distributed';
import { native } from '../native';
import type { StepDiagnostics } from '../native';
import { AsyncQueue } from '../infer/async_queue';
import { compatibilityProblems } from './run_identity';
import { captureRngStates, restoreRngStates, RngStates } from './rng_states';
import { diagnosticRecordFields } from './step_diagnostics';
import { EvalMetricRecord, RunFolder, TrainMetricRecord } from './run_folder';
import { sumAcrossRanks } from './sum_across_ranks';
import type { DistributedMode } from './trainer_options';

export interface StepEvent extends TrainMetricRecord {
  totalSteps: number;
  /** MoE layer indices and, per layer, the tokens routed to each expert in this step. */
  moeLayers: number[];
  expertLoad: number[][];
  /** On diagnostic steps (options.diagnosticsEvery): everything measured, per head and per matrix type. */
  diagnostics?: StepDiagnostics;
}

export interface EvaluationResult {
  loss: number;
  perplexity: number;
  tokens: number;
}

/** One micro-batch of a step, owned by the loop (disposed after the step). labels may be inputIds itself. */
export interface StepBatch {
  inputIds: Tensor;
  labels: Tensor;
  attentionMask?: Tensor;
}

export interface DrawnStep {
  /** This rank's micro-batches of the step. */
  batches: Promise<StepBatch[]>;
  /** The data position after them (what a checkpoint after this step stores). */
  position: unknown;
  /** The epoch they come from. */
  epoch: number;
}

/** Where a run's batches come from, with a position that a checkpoint stores as JSON and a resume restores. */
export interface StepDataSource {
  draw(): DrawnStep;
  position(): unknown;
  restore(position: unknown): void;
}

export interface LoopParts {
  model: CausalLM;
  optimizer: Optimizer;
  schedule: LrSchedule;
  totalSteps: number;
  data: StepDataSource;
  run: RunFolder;
  /** What must match for a checkpoint to resume in this run (JSON: a modelConfig, a tokenizer, settings). */
  identity: Record<string, unknown>;
  /** 'model': checkpoints hold every weight; 'lora': the adapters alone (the frozen base comes from its folder). */
  savedWeights: 'model' | 'lora';
  /** Training FLOPs per token for the flops column (0: not counted). */
  flopsPerToken: number;
  /** Options of every step (diagnostics are added on diagnostic steps). */
  stepOptions: AccumulatedStepOptions;
  /** Seeds libtorch's default generators at the start of a fresh run (a resumed one restores their states). */
  seed: number;
  /** Param groups whose lr is `scale` × the scheduled lr (the others take the scheduled lr). Default none. */
  groupLrScales?: ReadonlyArray<{ group: string; scale: number }>;
}

export interface LoopCadence {
  evalEvery: number;
  saveEvery: number;
  keepLast: number;
  diagnosticsEvery: number;
  signal?: AbortSignal;
  /** A run folder (its newest checkpoint) or a checkpoint folder to continue from; null: a fresh run. */
  resumeFrom: string | null;
  distributed: DistributedMode;
}

/** How the loop ended, before the subclass adds what it saved. */
export interface LoopResult {
  runDir: string;
  status: 'completed' | 'aborted';
  steps: number;
  totalSteps: number;
  tokens: number;
  /** The losses of the first step this process ran and of the last (null when none ran). */
  first: StepLosses | null;
  last: StepLosses | null;
  valLoss: number | null;
  /** The last checkpoint written (null if none). */
  checkpoint: string | null;
  elapsedSeconds: number;
}

export interface StepLosses {
  loss: number;
  lmLoss: number;
}

interface LoopState {
  step: number;
  tokens: number;
  elapsedSeconds: number;
  epoch: number;
  /** The data source's position after the last step. */
  data: unknown;
}

interface SavedLoopState {
  version: number;
  kind: string;
  identity: Record<string, unknown>;
  loop: LoopState;
  rng: RngStates;
}

const loopStateVersion = 2;

export abstract class TrainingLoop<Result> extends EventEmitter {
  #parts: LoopParts | null = null;
  #state: LoopState = { step: 0, tokens: 0, elapsedSeconds: 0, epoch: 0, data: null };
  #lastCheckpoint: { step: number; path: string } | null = null;
  #lastValLoss: number | null = null;
  #rngDevices: string[] = [];
  #rank = 0;
  #worldSize = 1;
  #stopRequested = false;
  #running = false;
  #setup: Promise<void> | null = null;
  #setupDone = false;

  /** What runs these are ('pre-training', 'fine-tuning'): a checkpoint resumes only a run of its kind. */
  protected abstract readonly runKind: string;
  protected abstract cadence(): LoopCadence;
  /** Builds the parts (this.rank and this.worldSize are known by then). */
  protected abstract build(): Promise<LoopParts>;
  /** run.json's description of the run (merged over what the file holds). */
  protected abstract describeRun(): Record<string, unknown>;
  /** After the last step and checkpoint (every rank): saves what the run ends with, gives fit()'s result. */
  protected abstract finish(result: LoopResult): Promise<Result>;
  /** Mean next-token loss on the validation split (every rank takes part). */
  abstract evaluate(): Promise<EvaluationResult>;

  protected get parts(): LoopParts {
    return this.required(this.#parts, 'run');
  }

  /** The parts, or null before setup() built them (or after releaseParts()). */
  protected partsIfBuilt(): LoopParts | null {
    return this.#parts;
  }

  /** Forgets the parts (after the subclass disposed them). */
  protected releaseParts(): void {
    this.#parts = null;
  }

  protected required<T>(value: T | null, what: string): T {
    if (value === null) throw new MoonlightError(`the ${what} exists after setup(): await setup() or fit() first`);
    return value;
  }

  get model(): CausalLM {
    return this.parts.model;
  }

  get optimizer(): Optimizer {
    return this.parts.optimizer;
  }

  get runDir(): string {
    return this.parts.run.path;
  }

  get totalSteps(): number {
    return this.#parts?.totalSteps ?? 0;
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

  /** Builds everything the run needs and resumes when asked. Idempotent. */
  setup(): Promise<void> {
    this.#setup ??= this.#doSetup();
    return this.#setup;
  }

  async #doSetup(): Promise<void> {
    if (this.cadence().distributed !== 'off') {
      if (!distributed.isInitialized) await distributed.init();
      this.#rank = distributed.rank;
      this.#worldSize = distributed.worldSize;
    }
    const parts = await this.build();
    this.#parts = parts;
    parts.model.train();
    this.#state.data = parts.data.position();
    const someWeight = parts.model.stateDict();
    this.#rngDevices = [...new Set([...someWeight.values()].map((t) => t.device))];
    someWeight.forEach((t) => t.dispose());
    const { resumeFrom } = this.cadence();  // known once the parts (the run folder) are
    if (resumeFrom !== null) {
      await this.#resume(resumeFrom);
    } else if (listTrainingCheckpoints(parts.run.path).length > 0) {
      throw new CheckpointError(
        `the run folder ${parts.run.path} already has checkpoints: resume it (--resume / resume: true) or pick another --out`,
      );
    } else {
      // What draws from the default generators (LoRA dropout) repeats from run to run.
      native().manualSeed(parts.seed);
    }
    if (this.#rank === 0) {
      parts.run.ensure();
      parts.run.resetMetrics(this.#state.step);
      this.#writeRun('running');
    }
    this.#setupDone = true;
  }

  async #resume(location: string): Promise<void> {
    const parts = this.parts;
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
    const tensors = [...Object.values(checkpoint.model), ...Object.values(checkpoint.optimizer)];
    try {
      const saved = savedLoopState(checkpoint.state);
      if (saved === null || saved.kind !== this.runKind) {
        throw new CheckpointError(
          `${checkpoint.path} was not written by a ${this.runKind} run (${saved === null ? 'no loop state' : `a ${saved.kind} run's`}): cannot resume from it`,
        );
      }
      const problems = compatibilityProblems(saved.identity, parts.identity);
      if (problems.length > 0) {
        throw new CheckpointError(`cannot resume from ${checkpoint.path}: ${problems.join('; ')}. Match those settings or start a new --out`);
      }
      try {
        if (parts.savedWeights === 'lora') parts.model.loadLoraTensors(checkpoint.model);
        else parts.model.loadStateDict(checkpoint.model);
        parts.optimizer.loadStateDict(checkpoint.optimizer);
        parts.data.restore(saved.loop.data);
      } catch (error) {
        throw new CheckpointError(`cannot resume from ${checkpoint.path}: ${(error as Error).message}`);
      }
      restoreRngStates(saved.rng);
      this.#state = { ...saved.loop };
      this.#lastCheckpoint = { step: saved.loop.step, path: checkpoint.path };
    } finally {
      tensors.forEach((t) => t.dispose());
    }
    if (this.#state.step > parts.totalSteps) {
      throw new CheckpointError(`${checkpoint.path} is at step ${this.#state.step}, past this run's ${parts.totalSteps} steps: raise --steps`);
    }
  }

  #writeRun(status: string, extra: Record<string, unknown> = {}): void {
    if (this.#rank !== 0) return;
    const run = this.parts.run;
    const previous = run.readRun() ?? {};
    run.writeRun({
      ...previous,
      name: path.basename(run.path),
      createdAt: previous.createdAt ?? new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      status,
      ...this.describeRun(),
      worldSize: this.#worldSize,
      distributed: this.#worldSize > 1 ? this.cadence().distributed : 'off',
      totalSteps: this.totalSteps,
      ...extra,
    });
  }

  /** Requests a clean stop after the current step (as the signal option does). */
  stop(): void {
    this.#stopRequested = true;
  }

  /** Runs the loop to the planned end (or a stop), writes a final checkpoint, then what the run ends with. */
  async fit(): Promise<Result> {
    if (this.#running) throw new MoonlightError('fit() is already running');
    this.#running = true;
    try {
      await this.setup();
      const loopResult = await this.#loop();
      const result = await this.finish(loopResult);
      this.#writeRun(loopResult.status, { result });
      return result;
    } catch (error) {
      // A run that never started (bad options, an incompatible checkpoint) leaves its folder as it was.
      if (this.#setupDone) this.#writeRun('failed', { error: (error as Error).message });
      this.emit('error-stop', error);
      throw error;
    } finally {
      this.#running = false;
      if (this.#rank === 0) this.#parts?.run.close();
      this.emit('end');
    }
  }

  async #loop(): Promise<LoopResult> {
    const { model, optimizer, schedule, totalSteps, data, stepOptions } = this.parts;
    // Routing splits a group by optimizer into '<group>/muon' and '<group>/adamw': each part takes the scale.
    const scaledGroups = (this.parts.groupLrScales ?? []).flatMap(({ group, scale }) =>
      optimizer.paramGroups.filter((g) => g.name === group || g.name.startsWith(`${group}/`)).map((g) => ({ group: g.name, scale })));
    const cadence = this.cadence();
    const startedAt = process.hrtime.bigint();
    const elapsedBefore = this.#state.elapsedSeconds;
    const elapsed = (): number => elapsedBefore + Number(process.hrtime.bigint() - startedAt) / 1e9;
    const disposeAll = (batches: StepBatch[]): void => batches.forEach(disposeBatch);

    let first: StepLosses | null = null;
    let last: StepLosses | null = null;
    let next = this.#state.step < totalSteps ? data.draw() : null;
    let status: LoopResult['status'] = 'completed';
    while (next !== null && this.#state.step < totalSteps) {
      if (await this.#agreeToStop(cadence)) {
        status = 'aborted';
        await next.batches.then(disposeAll);
        next = null;
        break;
      }
      const current = next;
      const batches = await current.batches;
      const step = this.#state.step;
      const lr = schedule.lrAt(step);
      optimizer.setLr(lr);
      for (const { group, scale } of scaledGroups) optimizer.setLr(lr * scale, { group });
      const stepStarted = process.hrtime.bigint();
      const running = model.trainStepAccumulated(batches, optimizer, {
        ...stepOptions,
        diagnostics: cadence.diagnosticsEvery > 0 && (step % cadence.diagnosticsEvery === 0 || step + 1 === totalSteps),
      });
      // Gather the next step's batches while this one runs.
      next = step + 1 < totalSteps ? data.draw() : null;
      // Under data parallelism the step's metrics are the whole step's already: the native step normalises the
      // LM loss by the global count of labelled tokens and reports that count, and sums the expert load over ranks.
      let metrics: OptimizerStepMetrics;
      try {
        metrics = await running;
      } finally {
        disposeAll(batches);
      }
      const stepSeconds = Number(process.hrtime.bigint() - stepStarted) / 1e9;
      this.#state = {
        step: step + 1, tokens: this.#state.tokens + metrics.tokens, elapsedSeconds: elapsed(), epoch: current.epoch, data: current.position,
      };
      last = { loss: metrics.loss, lmLoss: metrics.lmLoss };
      first ??= last;
      this.#recordStep(metrics, lr, stepSeconds);
      const atEnd = this.#state.step === totalSteps;
      if (cadence.evalEvery > 0 && (this.#state.step % cadence.evalEvery === 0 || atEnd)) await this.#recordEval(elapsed());
      if (cadence.saveEvery > 0 && this.#state.step % cadence.saveEvery === 0 && !atEnd) await this.#checkpoint(cadence);
    }
    if (next !== null) await next.batches.then(disposeAll);
    if (this.#state.step > 0 && this.#lastCheckpoint?.step !== this.#state.step) await this.#checkpoint(cadence);
    this.#state.elapsedSeconds = elapsed();
    return {
      runDir: this.runDir, status, steps: this.#state.step, totalSteps, tokens: this.#state.tokens, first, last,
      valLoss: this.#lastValLoss, checkpoint: this.#lastCheckpoint?.path ?? null, elapsedSeconds: this.#state.elapsedSeconds,
    };
  }

  /** Whether to stop now: asked locally, or (distributed) on any rank, so that all ranks stop at the same step. */
  async #agreeToStop(cadence: LoopCadence): Promise<boolean> {
    const local = this.#stopRequested || cadence.signal?.aborted === true ? 1 : 0;
    const [anyRank] = await sumAcrossRanks([local], this.#worldSize);
    return anyRank > 0;
  }

  #recordStep(metrics: OptimizerStepMetrics, lr: number, stepSeconds: number): void {
    const state = this.#state;
    const flopsPerToken = this.parts.flopsPerToken;
    const loadRatios = metrics.expertLoad.map((load) => {
      const mean = load.reduce((a, b) => a + b, 0) / Math.max(1, load.length);
      return mean > 0 ? Math.max(...load) / mean : 1;
    });
    const record: TrainMetricRecord = {
      type: 'train', step: state.step, epoch: state.epoch, tokens: state.tokens, flops: state.tokens * flopsPerToken,
      loss: metrics.loss, lmLoss: metrics.lmLoss, auxLoss: metrics.auxLoss, lr, gradNorm: metrics.gradNorm,
      clipCoefficient: metrics.clipCoefficient, tokensPerSecond: metrics.tokens / stepSeconds, stepSeconds,
      elapsedSeconds: state.elapsedSeconds,
      ...(loadRatios.length > 0 ? { expertLoadMaxOverMean: loadRatios.reduce((a, b) => a + b, 0) / loadRatios.length } : {}),
      ...diagnosticRecordFields(metrics.diagnostics, metrics.qkClippedHeads),
    };
    if (this.#rank === 0) this.parts.run.appendMetric(record);
    const event: StepEvent = { ...record, totalSteps: this.totalSteps, moeLayers: metrics.moeLayers, expertLoad: metrics.expertLoad,
      ...(metrics.diagnostics ? { diagnostics: metrics.diagnostics } : {}) };
    this.emit('step', event);
    this.emit('metric', event);
  }

  async #recordEval(elapsedSeconds: number): Promise<void> {
    const evaluation = await this.evaluate();
    this.#lastValLoss = evaluation.loss;
    const state = this.#state;
    const record: EvalMetricRecord = {
      type: 'eval', step: state.step, tokens: state.tokens, flops: state.tokens * this.parts.flopsPerToken,
      valLoss: evaluation.loss, valPerplexity: evaluation.perplexity, valTokens: evaluation.tokens, elapsedSeconds,
    };
    if (this.#rank === 0) this.parts.run.appendMetric(record);
    this.emit('eval', record);
    this.emit('metric', record);
  }

  async #checkpoint(cadence: LoopCadence): Promise<void> {
    const { model, optimizer, run, identity, savedWeights } = this.parts;
    const step = this.#state.step;
    // A distributed optimizer's state is gathered whole (a collective: every rank takes part), so the
    // checkpoint resumes on any number of ranks; the weights are the same on every rank.
    const optimizerState = this.#worldSize > 1 ? await optimizer.fullStateDict() : optimizer.stateDict();
    const folder = path.join(checkpointsFolder(run.path), `step-${String(step).padStart(8, '0')}`);
    if (this.#rank === 0) {
      const weights = savedWeights === 'lora' ? loraTensors(model) : model.stateDict();
      const state: SavedLoopState = { version: loopStateVersion, kind: this.runKind, identity, loop: this.#state, rng: captureRngStates(this.#rngDevices) };
      try {
        await saveTrainingCheckpoint(run.path, step, { model: weights, optimizer: optimizerState, state: state as unknown as Record<string, unknown> },
          { keepLast: cadence.keepLast });
      } finally {
        weights.forEach((t) => t.dispose());
      }
    }
    if (this.#worldSize > 1) Object.values(optimizerState).forEach((t) => t.dispose());
    this.#lastCheckpoint = { step, path: folder };
    this.emit('checkpoint', { step, path: folder });
  }

  /** Every train / eval record from now until fit() ends, as an async iterator. */
  async *metrics(): AsyncGenerator<StepEvent | EvalMetricRecord> {
    const queue = new AsyncQueue<StepEvent | EvalMetricRecord>();
    const onMetric = (record: StepEvent | EvalMetricRecord): void => queue.push(record);
    const onEnd = (): void => queue.close();
    this.on('metric', onMetric);
    this.on('end', onEnd);
    try {
      yield* queue;
    } finally {
      this.off('metric', onMetric);
      this.off('end', onEnd);
    }
  }
}

function disposeBatch(batch: StepBatch): void {
  batch.inputIds.dispose();
  if (batch.labels !== batch.inputIds) batch.labels.dispose();
  batch.attentionMask?.dispose();
}

/** The loop state of a checkpoint (version 1: a Trainer's, whose data position was its sampler's). */
function savedLoopState(state: Record<string, unknown>): SavedLoopState | null {
  const saved = state as Partial<SavedLoopState> & { trainer?: Omit<LoopState, 'data' | 'epoch'> & { sampler: { epoch: number } } };
  if (saved.identity === undefined) return null;
  if (saved.version === loopStateVersion && saved.loop !== undefined && typeof saved.kind === 'string') {
    return { version: saved.version, kind: saved.kind, identity: saved.identity, loop: saved.loop, rng: saved.rng ?? {} };
  }
  if (saved.version === 1 && saved.trainer !== undefined) {
    const { sampler, ...counters } = saved.trainer;
    return { version: 1, kind: 'pre-training', identity: saved.identity, loop: { ...counters, epoch: sampler.epoch, data: sampler }, rng: {} };
  }
  return null;
}
