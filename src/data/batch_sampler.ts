/**
 * Which training sequences each step sees, and where in that sequence a run stands, so a resumed run sees
 * exactly the batches the uninterrupted run would have.
 *
 * Epoch e visits the train split in dataset.order('train', seed, e), batchSize sequences per batch. When fewer
 * than batchSize sequences remain the rest of the epoch is skipped (drop_last: every batch has the same shape)
 * and the next epoch starts; those sequences come back, shuffled elsewhere, in later epochs.
 * The whole position is { seed, epoch, offset }: store state() in a checkpoint and pass it back as `state`.
 */
import { ArgumentError } from '../errors';
import { checkPositiveInteger, type TokenDataset } from './token_dataset';

/** A sampler's position: the next batch is order(seed, epoch)[offset, offset + batchSize). JSON-serialisable. */
export interface SamplerState {
  seed: number;
  epoch: number;
  /** Sequences of this epoch already handed out. */
  offset: number;
}

export interface BatchSamplerOptions {
  batchSize: number;
  /** Default 0; must equal state.seed when both are given. */
  seed?: number;
  /** Resume from a saved position. */
  state?: SamplerState;
}

export interface SampledBatch {
  /** Train-split sequence indices, for dataset.batch('train', indices). */
  indices: Uint32Array;
  /** The epoch and offset this batch was taken from. */
  epoch: number;
  offset: number;
}

export class BatchSampler {
  readonly batchSize: number;
  readonly seed: number;
  readonly #numSequences: number;
  readonly #dataset: TokenDataset;
  #epoch: number;
  #offset: number;
  #order: { epoch: number; order: Uint32Array } | null = null;

  constructor(dataset: TokenDataset, options: BatchSamplerOptions) {
    checkPositiveInteger(options.batchSize, 'batchSize');
    this.#dataset = dataset;
    this.#numSequences = dataset.numSequences('train');
    if (options.batchSize > this.#numSequences) {
      throw new ArgumentError(
        `batch size ${options.batchSize} exceeds the ${this.#numSequences} training sequences of the dataset; ` +
          'use a smaller --batch_size or --seq_len, or more data',
      );
    }
    this.batchSize = options.batchSize;
    const state = options.state;
    if (state !== undefined) checkState(state, this.#numSequences);
    if (state !== undefined && options.seed !== undefined && options.seed !== state.seed) {
      throw new ArgumentError(`seed ${options.seed} differs from the saved sampler state's seed ${state.seed}`);
    }
    this.seed = state?.seed ?? options.seed ?? 0;
    if (!Number.isSafeInteger(this.seed) || this.seed < 0) {
      throw new ArgumentError(`seed must be a non-negative safe integer, got ${this.seed}`);
    }
    this.#epoch = state?.epoch ?? 0;
    this.#offset = state?.offset ?? 0;
  }

  /** Full batches per epoch (the remainder is dropped). */
  get batchesPerEpoch(): number {
    return Math.floor(this.#numSequences / this.batchSize);
  }

  get epoch(): number {
    return this.#epoch;
  }

  /** The next batch of training sequence indices; moves to the next epoch when this one has too few left. */
  next(): SampledBatch {
    if (this.#offset + this.batchSize > this.#numSequences) {
      this.#epoch++;
      this.#offset = 0;
    }
    const offset = this.#offset;
    const indices = this.#orderOf(this.#epoch).slice(offset, offset + this.batchSize);
    this.#offset += this.batchSize;
    return { indices, epoch: this.#epoch, offset };
  }

  /** The position after the last next(): restoring it continues with the same batches. */
  state(): SamplerState {
    return { seed: this.seed, epoch: this.#epoch, offset: this.#offset };
  }

  #orderOf(epoch: number): Uint32Array {
    if (this.#order?.epoch !== epoch) this.#order = { epoch, order: this.#dataset.order('train', this.seed, epoch) };
    return this.#order.order;
  }
}

function checkState(state: SamplerState, numSequences: number): void {
  if (typeof state !== 'object' || state === null) throw new ArgumentError('sampler state must be an object { seed, epoch, offset }');
  for (const key of ['seed', 'epoch', 'offset'] as const) {
    if (!Number.isSafeInteger(state[key]) || state[key] < 0) {
      throw new ArgumentError(`sampler state ${key} must be a non-negative integer, got ${JSON.stringify(state[key])}`);
    }
  }
  if (state.offset > numSequences) {
    throw new ArgumentError(
      `sampler state offset ${state.offset} exceeds the ${numSequences} training sequences: the state belongs to another dataset or seq_len`,
    );
  }
}
