/**
 * Fine-tuning's batches: chat samples (src/train/sft_data.ts) in a seeded order, epoch after epoch (an epoch ends
 * when fewer samples are left than one global batch takes), each micro-batch padded (or packed) on its own. Every
 * rank walks the same order; rank r takes its slice of each global micro-batch (batchSize samples per rank), padded
 * to its own longest sample. The position is { epoch, cursor }: samples of the epoch already handed out.
 *
 * The held-out validation split: a seeded choice of round(fraction × samples) samples (at least one when the
 * fraction is above 0), fixed by the seed, kept in file order.
 */
import { ArgumentError, ConfigError } from '../errors';
import { seededPermutation } from '../data/shuffle';
import { tensor } from '../tensor/factories';
import type { ScoredBatch } from '../eval/perplexity';
import type { StepBatch, StepDataSource } from './loop';
import { IGNORE_INDEX, packSamples, padSamples, SftBatch, SftSample } from './sft_data';

/** The permutation stream that picks the validation samples (training epochs use streams 0, 1, …). */
const validationStream = 2 ** 40;

export function splitSamples(samples: readonly SftSample[], validationFraction: number, seed: number): { train: SftSample[]; validation: SftSample[] } {
  if (validationFraction === 0) return { train: [...samples], validation: [] };
  const count = Math.max(1, Math.round(validationFraction * samples.length));
  if (count >= samples.length) {
    throw new ConfigError(`validationFraction ${validationFraction} holds out all ${samples.length} samples: lower it or add data`);
  }
  const held = new Set(seededPermutation(samples.length, seed, validationStream).subarray(0, count));
  return { train: samples.filter((_, i) => !held.has(i)), validation: samples.filter((_, i) => held.has(i)) };
}

function tensors(batch: SftBatch): StepBatch {
  return {
    inputIds: tensor(batch.inputIds, { dtype: 'int64' }),
    labels: tensor(batch.labels, { dtype: 'int64' }),
    attentionMask: tensor(batch.attentionMask, { dtype: 'int64' }),
  };
}

export interface SftSourceOptions {
  batchSize: number;
  gradAccum: number;
  seed: number;
  rank: number;
  worldSize: number;
  packing: boolean;
  maxLength: number;
  padTokenId: number;
}

interface SftPosition {
  epoch: number;
  cursor: number;
}

export function sftSource(samples: readonly SftSample[], options: SftSourceOptions): StepDataSource {
  const { batchSize, gradAccum, seed, rank, worldSize } = options;
  const globalBatch = batchSize * worldSize;
  let position: SftPosition = { epoch: 0, cursor: 0 };
  let order = seededPermutation(samples.length, seed, 0);
  const microBatch = (): StepBatch => {
    if (position.cursor + globalBatch > order.length) {
      position = { epoch: position.epoch + 1, cursor: 0 };
      order = seededPermutation(samples.length, seed, position.epoch);
    }
    const start = position.cursor + rank * batchSize;
    const picked = Array.from(order.subarray(start, start + batchSize), (index) => samples[index]);
    position = { ...position, cursor: position.cursor + globalBatch };
    return tensors(options.packing ? packSamples(picked, options.maxLength, options.padTokenId) : padSamples(picked, options.padTokenId));
  };
  return {
    draw() {
      const batches = Array.from({ length: gradAccum }, microBatch);
      return { batches: Promise.resolve(batches), position: { ...position }, epoch: position.epoch };
    },
    position: () => ({ ...position }),
    restore(saved) {
      const p = saved as SftPosition;
      if (!Number.isSafeInteger(p?.epoch) || !Number.isSafeInteger(p?.cursor) || p.cursor < 0 || p.cursor > samples.length) {
        throw new ArgumentError(`the saved data position ${JSON.stringify(saved)} does not fit ${samples.length} samples`);
      }
      position = { epoch: p.epoch, cursor: p.cursor };
      order = seededPermutation(samples.length, seed, p.epoch);
    },
  };
}

/** Validation batches (padded, in order) for this rank: batch b of at most maxBatches when b % worldSize === rank. */
export async function* validationBatches(
  samples: readonly SftSample[], options: { batchSize: number; maxBatches: number; padTokenId: number; rank: number; worldSize: number },
): AsyncGenerator<ScoredBatch> {
  const batches = Math.min(Math.ceil(samples.length / options.batchSize), options.maxBatches);
  for (let b = options.rank; b < batches; b += options.worldSize) {
    const picked = samples.slice(b * options.batchSize, (b + 1) * options.batchSize);
    const scoredTokens = picked.reduce((sum, s) => sum + s.labels.slice(1).filter((label) => label !== IGNORE_INDEX).length, 0);
    yield { ...tensors(padSamples(picked, options.padTokenId)), scoredTokens };
  }
}
