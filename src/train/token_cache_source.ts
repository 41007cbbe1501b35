/**
 * Pre-training's batches: windows of the memory-mapped token cache in the BatchSampler's seeded order. Every rank
 * walks the same global order; rank r takes its slice of each global batch (batchSize sequences per rank). The
 * position is the sampler's (seed, epoch, sequences handed out).
 */
import { BatchSampler, SamplerState } from '../data/batch_sampler';
import type { TokenDataset } from '../data/token_dataset';
import type { StepDataSource, StepBatch } from './loop';

export interface TokenCacheSourceOptions {
  batchSize: number;
  gradAccum: number;
  seed: number;
  rank: number;
  worldSize: number;
}

export function tokenCacheSource(dataset: TokenDataset, options: TokenCacheSourceOptions): StepDataSource {
  const { batchSize, gradAccum, seed, rank, worldSize } = options;
  const samplerAt = (state: SamplerState): BatchSampler => new BatchSampler(dataset, { batchSize: batchSize * worldSize, seed, state });
  let sampler = samplerAt({ seed, epoch: 0, offset: 0 });
  const slice = (indices: Uint32Array): Uint32Array => indices.subarray(rank * batchSize, (rank + 1) * batchSize);
  const window = (indices: Uint32Array): Promise<StepBatch> => dataset.batch('train', indices).then((ids) => ({ inputIds: ids, labels: ids }));
  return {
    draw() {
      const indices = Array.from({ length: gradAccum }, () => slice(sampler.next().indices));
      const position = sampler.state();
      return { batches: Promise.all(indices.map(window)), position, epoch: position.epoch };
    },
    position: () => sampler.state(),
    restore(position) {
      sampler = samplerAt(position as SamplerState);
    },
  };
}
