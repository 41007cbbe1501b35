/**
 * Learning-rate schedules: lrAt(step) gives the lr to use for optimizer step `step` (0-based), to pass to
 * optimizer.setLr() before each step. Formulas follow transformers' schedulers (the ones Moonlight's
 * toy_train.py uses), so a run here and a run there see the same lr at every step.
 */
import { ConfigError } from '../errors';

export interface LrSchedule {
  lrAt(step: number): number;
}

function checkNonNegative(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(`${where} is ${String(value)}; expected a finite number ≥ 0`);
  }
  return value;
}

function checkSteps(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ConfigError(`${where} is ${String(value)}; expected an integer ≥ 0`);
  }
  return value;
}

function checkStep(step: unknown): number {
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
    throw new ConfigError(`step is ${String(step)}; expected an integer ≥ 0`);
  }
  return step;
}

function checkRatio(value: unknown, where: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new ConfigError(`${where} is ${String(value)}; expected a number in [0, 1]`);
  }
  return value;
}

/** The same lr at every step. */
export class ConstantLR implements LrSchedule {
  readonly lr: number;

  constructor(options: { lr: number }) {
    this.lr = checkNonNegative(options?.lr, 'options.lr');
  }

  lrAt(step: number): number {
    checkStep(step);
    return this.lr;
  }
}

export interface CosineWithWarmupOptions {
  /** The lr reached at the end of warmup. */
  peakLr: number;
  /** Linear warmup from 0 over this many steps. Default 100 (toy_train.py). */
  warmupSteps?: number;
  /** Total steps; the cosine reaches minLr here. */
  totalSteps: number;
  /** Floor of the decay. Default 0 (toy_train.py decays to 0; the paper's run decays to peakLr/10). */
  minLr?: number;
  /** Cosine waves over the decay; 0.5 (default) is a half cosine from peakLr down to minLr. */
  numCycles?: number;
}

/** transformers' get_cosine_schedule_with_warmup (and its min-lr variant when minLr > 0). */
export class CosineWithWarmup implements LrSchedule {
  readonly peakLr: number;
  readonly warmupSteps: number;
  readonly totalSteps: number;
  readonly minLr: number;
  readonly numCycles: number;

  constructor(options: CosineWithWarmupOptions) {
    this.peakLr = checkNonNegative(options?.peakLr, 'options.peakLr');
    this.warmupSteps = checkSteps(options.warmupSteps ?? 100, 'options.warmupSteps');
    this.totalSteps = checkSteps(options.totalSteps, 'options.totalSteps');
    this.minLr = checkNonNegative(options.minLr ?? 0, 'options.minLr');
    this.numCycles = checkNonNegative(options.numCycles ?? 0.5, 'options.numCycles');
    if (this.minLr > this.peakLr) throw new ConfigError(`options.minLr (${this.minLr}) exceeds options.peakLr (${this.peakLr})`);
  }

  lrAt(step: number): number {
    checkStep(step);
    if (step < this.warmupSteps) return (this.peakLr * step) / Math.max(1, this.warmupSteps);
    const progress = (step - this.warmupSteps) / Math.max(1, this.totalSteps - this.warmupSteps);
    const cosine = Math.max(0, 0.5 * (1 + Math.cos(Math.PI * this.numCycles * 2 * progress)));
    const minRatio = this.peakLr === 0 ? 0 : this.minLr / this.peakLr;
    return this.peakLr * (cosine * (1 - minRatio) + minRatio);
  }
}

export type WsdDecayShape = 'linear' | 'cosine' | '1-sqrt';

export interface WarmupStableDecayOptions {
  peakLr: number;
  warmupSteps: number;
  stableSteps: number;
  decaySteps: number;
  /** Default 'cosine' (transformers' default); '1-sqrt' and 'linear' are common for WSD cooldowns. */
  decayShape?: WsdDecayShape;
  /** lr at the start of warmup and end of decay, as a fraction of peakLr. Default 0. */
  minLrRatio?: number;
}

/** Warmup-stable-decay: transformers' get_wsd_schedule with linear warmup. After decay: minLrRatio·peakLr. */
export class WarmupStableDecay implements LrSchedule {
  readonly peakLr: number;
  readonly warmupSteps: number;
  readonly stableSteps: number;
  readonly decaySteps: number;
  readonly decayShape: WsdDecayShape;
  readonly minLrRatio: number;

  constructor(options: WarmupStableDecayOptions) {
    this.peakLr = checkNonNegative(options?.peakLr, 'options.peakLr');
    this.warmupSteps = checkSteps(options.warmupSteps, 'options.warmupSteps');
    this.stableSteps = checkSteps(options.stableSteps, 'options.stableSteps');
    this.decaySteps = checkSteps(options.decaySteps, 'options.decaySteps');
    this.decayShape = options.decayShape ?? 'cosine';
    if (!['linear', 'cosine', '1-sqrt'].includes(this.decayShape)) {
      throw new ConfigError(`options.decayShape is '${String(this.decayShape)}'; expected 'linear', 'cosine' or '1-sqrt'`);
    }
    this.minLrRatio = checkRatio(options.minLrRatio ?? 0, 'options.minLrRatio');
  }

  lrAt(step: number): number {
    checkStep(step);
    const r = this.minLrRatio;
    if (step < this.warmupSteps) {
      const progress = step / Math.max(1, this.warmupSteps);
      return this.peakLr * Math.max(0, progress * (1 - r) + r);
    }
    if (step < this.warmupSteps + this.stableSteps) return this.peakLr;
    if (step < this.warmupSteps + this.stableSteps + this.decaySteps) {
      const progress = (step - this.warmupSteps - this.stableSteps) / Math.max(1, this.decaySteps);
      const factor =
        this.decayShape === 'linear'
          ? 1 - progress
          : this.decayShape === 'cosine'
            ? 0.5 * (1 + Math.cos(Math.PI * progress))
            : 1 - Math.sqrt(progress);
      return this.peakLr * Math.max(0, factor * (1 - r) + r);
    }
    return this.peakLr * r;
  }
}
