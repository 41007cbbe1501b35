/**
 * Grids for `moonlight scaling`: model sizes (of the moonlight MoE preset), the training tokens each gets,
 * the batch shape, the seeds, and the lr grids searched at the smallest size. 'ci' exercises the whole
 * pipeline (seeds, both lr searches, the update-RMS match) at toy size, 'cpu-small' is the one-seed paper
 * recipe on 2 CPU cores (≤ 30 min), 'cpu-medium' the seeded, tuned reproduction on 2 cores (≤ 90 min),
 * 'medium' is for bigger machines and several processes (`moonlight launch --nproc N -- scaling --preset medium`).
 */
import { ArgumentError } from '../errors';

export interface ScalingSize {
  name: string;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  /** Training tokens of this size's runs; unset: the preset's tokensPerParameter rule. */
  tokens?: number;
}

/** 'both': each optimizer takes the best lr of its own grid; 'adamw': AdamW's best lr for both (the paper's recipe). */
export type LrSearch = 'both' | 'adamw';
/** Where the grids run: at the smallest size only (every size reuses its best), or at both ends (lr interpolated between). */
export type LrSearchAt = 'smallest' | 'smallest,largest';

export interface ScalingPreset {
  description: string;
  /** The moonlight preset family ('moonlight-tiny': 8 experts, 2 active, 1 shared). */
  model: 'moonlight-tiny' | 'moonlight';
  sizes: ScalingSize[];
  /**
   * The token budget rule for sizes without their own `tokens`: tokens = tokensPerParameter × the activated
   * parameters excluding embeddings (the parameters a token's compute goes through; Chinchilla's
   * compute-optimal rule is ≈ 20), rounded to whole steps. Several epochs of a small corpus are allowed.
   */
  tokensPerParameter?: number;
  /** Seeds per (size, optimizer) point: seed s fixes the weights and the data order of every run it is in. */
  seeds: number;
  /** lr grids searched at the smallest size (seed 0), one per optimizer. */
  lrGrids: { adamw: number[]; muon: number[] };
  lrSearch: LrSearch;
  lrSearchAt: LrSearchAt;
  /** Also train Muon with its update rescaled per matrix type to AdamW's measured update RMS. */
  muonRmsFromAdamw: boolean;
  weightDecay: number;
  batchSize: number;
  seqLen: number;
  /** Validation evaluations per run (the last at its end) and batches per evaluation. */
  evalsPerRun: number;
  evalBatches: number;
  /** Diagnostics (update RMS per matrix type) every this many steps: the update-RMS match reads them. */
  diagnosticsEvery: number;
  /** Resamples of the bootstrap interval over seeds. */
  bootstrapResamples: number;
}

const kTokens = 1000;

/** A size named by its hidden width ('h64'). */
function size(hiddenSize: number, numLayers: number, numHeads: number, tokens?: number): ScalingSize {
  return { name: `h${hiddenSize}`, hiddenSize, numLayers, numHeads, ...(tokens !== undefined ? { tokens } : {}) };
}

/** The batch shape, evaluation and bootstrap of the 2-core presets. */
const cpuBatches = { weightDecay: 0.1, batchSize: 16, seqLen: 128, evalsPerRun: 4, evalBatches: 10, bootstrapResamples: 1000 } as const;

/**
 * cpu-medium's size, by arithmetic on a timing sample (2026-12-03, 30 steps of 16 × 128 per size, both
 * optimizers, diagnostics every 10 steps, on this project's 2 shared vCPUs at load average ≈ 7, so a quiet
 * machine is faster): Muon, the slower, trains 20.8k tokens/s at h32, 14.9k at h40, 11.1k at h48, 8.0k at
 * h64. At 7 tokens per activated non-embedding parameter (35.3k, 51.6k, 77.8k,
 * 165.9k) a run takes 12 s, 24 s, 49 s and 145 s. Runs per size: 5 seeds × 4 curves (AdamW, Muon at AdamW's
 * lr, Muon at its own lr, Muon with AdamW's update RMS) = 20, plus at h32 the two 4-point lr grids less the 3
 * grid runs that are also main runs: 25. Total 25·12 + 20·(24 + 49 + 145) = 4,660 s ≈ 78 min, plus ≈ 5 min of
 * evaluation and set-up (85 runs): ≈ 83 min ≤ 90. Searching at the largest size too adds 8 × 145 s ≈ 19 min.
 */
export const SCALING_PRESETS: Record<string, ScalingPreset> = {
  ci: {
    description: 'pipeline check: 4 tiny sizes, 2 seeds, both lr grids, the update-RMS match (about a minute on 2 cores)',
    model: 'moonlight-tiny',
    sizes: [size(16, 2, 2), size(24, 2, 2), size(32, 2, 2), size(40, 2, 2)],
    tokensPerParameter: 0.4,
    seeds: 2,
    lrGrids: { adamw: [3e-3, 1e-2], muon: [3e-3, 1e-2] },
    lrSearch: 'both', lrSearchAt: 'smallest', muonRmsFromAdamw: true,
    weightDecay: 0.1, batchSize: 8, seqLen: 32, evalsPerRun: 2, evalBatches: 2, diagnosticsEvery: 4, bootstrapResamples: 200,
  },
  'cpu-small': {
    description: "4 sizes (hidden 32–96), one seed, the paper's recipe (AdamW's best of a 3-point grid for both); ≤ 30 min on 2 cores",
    model: 'moonlight-tiny',
    sizes: [size(32, 2, 2, 300 * kTokens), size(48, 2, 2, 450 * kTokens), size(64, 3, 4, 650 * kTokens), size(96, 3, 4, 900 * kTokens)],
    seeds: 1,
    lrGrids: { adamw: [2e-3, 5e-3, 1e-2], muon: [] },
    lrSearch: 'adamw', lrSearchAt: 'smallest', muonRmsFromAdamw: false,
    ...cpuBatches, diagnosticsEvery: 0,
  },
  'cpu-medium': {
    description: '4 sizes (hidden 32–64), 5 seeds, both optimizers tuned + the paper recipe + the update-RMS match, 7 tokens/parameter; ≈ 83 min on 2 cores',
    model: 'moonlight-tiny',
    sizes: [size(32, 2, 2), size(40, 2, 2), size(48, 2, 2), size(64, 3, 4)],
    tokensPerParameter: 7,
    seeds: 5,
    lrGrids: { adamw: [2.5e-3, 5e-3, 1e-2, 2e-2], muon: [2.5e-3, 5e-3, 1e-2, 2e-2] },
    lrSearch: 'both', lrSearchAt: 'smallest', muonRmsFromAdamw: true,
    ...cpuBatches, diagnosticsEvery: 10,
  },
  medium: {
    description: 'GPU / multi-process scale: hidden 256–768 Moonlight MoE (64 experts, 6 active), 20–200 M tokens',
    model: 'moonlight',
    sizes: [size(256, 4, 4, 20_000 * kTokens), size(384, 6, 6, 45_000 * kTokens), size(512, 8, 8, 90_000 * kTokens), size(768, 10, 12, 200_000 * kTokens)],
    seeds: 5,
    lrGrids: { adamw: [1e-3, 2e-3, 4e-3], muon: [1e-3, 2e-3, 4e-3] },
    lrSearch: 'both', lrSearchAt: 'smallest', muonRmsFromAdamw: true,
    weightDecay: 0.1, batchSize: 32, seqLen: 512, evalsPerRun: 5, evalBatches: 20, diagnosticsEvery: 20, bootstrapResamples: 1000,
  },
};

export function scalingPreset(name: string): ScalingPreset {
  const preset = SCALING_PRESETS[name];
  if (preset === undefined) {
    throw new ArgumentError(`unknown scaling preset '${name}'; the presets are ${Object.keys(SCALING_PRESETS).join(', ')}`);
  }
  return preset;
}
