/**
 * Grids for `moonlight scaling`: model sizes (of the moonlight MoE preset), the training tokens each gets
 * (its compute budget grows with the size, as on a compute-optimal frontier), the batch shape, and the
 * AdamW lr grid searched at the smallest size. 'ci' exercises the whole pipeline in about a minute,
 * 'cpu-small' is the documented reproduction on 2 CPU cores (≤ 30 min), 'medium' is for bigger machines
 * and several processes (`moonlight launch --nproc N -- scaling --preset medium`).
 */
import { ArgumentError } from '../errors';

export interface ScalingSize {
  name: string;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  /** Training tokens of this size's runs (its compute budget divided by FLOPs per token). */
  tokens: number;
}

export interface ScalingPreset {
  description: string;
  /** The moonlight preset family ('moonlight-tiny': 8 experts, 2 active, 1 shared). */
  model: 'moonlight-tiny' | 'moonlight';
  sizes: ScalingSize[];
  /** AdamW lrs tried at the smallest size; the best is reused for every run of both optimizers. */
  lrGrid: number[];
  weightDecay: number;
  batchSize: number;
  seqLen: number;
  /** Validation evaluations per run (the last at its end) and batches per evaluation. */
  evalsPerRun: number;
  evalBatches: number;
}

const kTokens = 1000;

export const SCALING_PRESETS: Record<string, ScalingPreset> = {
  ci: {
    description: 'pipeline check: 4 tiny sizes, a few thousand tokens each (about a minute on 2 cores)',
    model: 'moonlight-tiny',
    sizes: [
      { name: 'h16', hiddenSize: 16, numLayers: 2, numHeads: 2, tokens: 6 * kTokens },
      { name: 'h24', hiddenSize: 24, numLayers: 2, numHeads: 2, tokens: 8 * kTokens },
      { name: 'h32', hiddenSize: 32, numLayers: 2, numHeads: 2, tokens: 10 * kTokens },
      { name: 'h40', hiddenSize: 40, numLayers: 2, numHeads: 2, tokens: 12 * kTokens },
    ],
    lrGrid: [3e-3, 1e-2],
    weightDecay: 0.1,
    batchSize: 8,
    seqLen: 32,
    evalsPerRun: 2,
    evalBatches: 2,
  },
  'cpu-small': {
    description: '4 sizes (hidden 32–96) × {Muon, AdamW} + a 3-point AdamW lr grid on Moby-Dick bytes; ≤ 30 min on 2 cores',
    model: 'moonlight-tiny',
    sizes: [
      { name: 'h32', hiddenSize: 32, numLayers: 2, numHeads: 2, tokens: 300 * kTokens },
      { name: 'h48', hiddenSize: 48, numLayers: 2, numHeads: 2, tokens: 450 * kTokens },
      { name: 'h64', hiddenSize: 64, numLayers: 3, numHeads: 4, tokens: 650 * kTokens },
      { name: 'h96', hiddenSize: 96, numLayers: 3, numHeads: 4, tokens: 900 * kTokens },
    ],
    lrGrid: [2e-3, 5e-3, 1e-2],
    weightDecay: 0.1,
    batchSize: 16,
    seqLen: 128,
    evalsPerRun: 4,
    evalBatches: 10,
  },
  medium: {
    description: 'GPU / multi-process scale: hidden 256–768 Moonlight MoE (64 experts, 6 active), 20–200 M tokens',
    model: 'moonlight',
    sizes: [
      { name: 'h256', hiddenSize: 256, numLayers: 4, numHeads: 4, tokens: 20_000 * kTokens },
      { name: 'h384', hiddenSize: 384, numLayers: 6, numHeads: 6, tokens: 45_000 * kTokens },
      { name: 'h512', hiddenSize: 512, numLayers: 8, numHeads: 8, tokens: 90_000 * kTokens },
      { name: 'h768', hiddenSize: 768, numLayers: 10, numHeads: 12, tokens: 200_000 * kTokens },
    ],
    lrGrid: [1e-3, 2e-3, 4e-3],
    weightDecay: 0.1,
    batchSize: 32,
    seqLen: 512,
    evalsPerRun: 5,
    evalBatches: 20,
  },
};

export function scalingPreset(name: string): ScalingPreset {
  const preset = SCALING_PRESETS[name];
  if (preset === undefined) {
    throw new ArgumentError(`unknown scaling preset '${name}'; the presets are ${Object.keys(SCALING_PRESETS).join(', ')}`);
  }
  return preset;
}
