/**
 * The scaling sweep's headline, C_Muon / C_AdamW at equal loss, and its interval over seeds.
 *
 * Headline: fit L(C) = a·C^(−b) + c to each optimizer's per-size mean final loss (mean over seeds), take
 * C_Muon(L) / C_AdamW(L) at each of AdamW's mean losses, and report their geometric mean (< 1: Muon needs
 * less compute).
 *
 * Interval: a percentile bootstrap over whole seeds. A seed fixes the weights and the data order of every
 * run it takes part in, so the runs of one seed (every size, both optimizers) are one sampling unit: a
 * resample draws S seed indices with replacement, averages each size's losses over the drawn seeds for both
 * optimizers (paired: the same seeds on both sides), refits both laws and recomputes the headline. The
 * interval is the (1 − level)/2 and (1 + level)/2 quantiles of the resampled headlines. With 5 seeds there are
 * C(9, 5) = 126 distinct resamples, so the interval is coarse and, like every percentile bootstrap on few
 * units, tends to be narrower than its nominal level; a resample where a fit never reaches a loss gives no
 * ratio and is counted, not dropped silently.
 */
import { ArgumentError } from '../errors';
import { computeRatioAtLoss, fitPowerLawWithOffset, PowerLawFit } from './power_law_fit';
import { seededUniform } from './seeded_uniform';

/** One model size of one optimizer: its training FLOPs and each seed's final validation loss (index = seed index). */
export interface SeededPoint {
  flops: number;
  lossBySeed: number[];
}

export interface ComputeRatioSummary {
  fits: { muon: PowerLawFit; adamw: PowerLawFit };
  /** C_Muon / C_AdamW at each AdamW mean loss (null where a fit does not reach it). */
  ratiosAtLoss: Array<{ loss: number; ratio: number | null }>;
  /** Geometric mean of the finite ratios; null when there is none. */
  ratio: number | null;
}

export interface ComputeRatioInterval {
  method: string;
  level: number;
  low: number;
  high: number;
  resamples: number;
  /** Resamples whose headline was undefined (a fit did not reach any AdamW loss). */
  undefinedResamples: number;
}

const mean = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0) / values.length;

/** The headline from per-size mean losses of both optimizers (same sizes, same FLOPs per size). */
export function computeRatioSummary(muon: readonly { flops: number; loss: number }[], adamw: readonly { flops: number; loss: number }[]): ComputeRatioSummary {
  const fits = { muon: fitPowerLawWithOffset(muon), adamw: fitPowerLawWithOffset(adamw) };
  const ratiosAtLoss = adamw.map((p) => ({ loss: p.loss, ratio: computeRatioAtLoss(fits.muon, fits.adamw, p.loss) }));
  const finite = ratiosAtLoss.map((r) => r.ratio).filter((r): r is number => r !== null && Number.isFinite(r) && r > 0);
  const ratio = finite.length > 0 ? Math.exp(mean(finite.map(Math.log))) : null;
  return { fits, ratiosAtLoss, ratio };
}

function meanOverSeeds(points: readonly SeededPoint[], seeds: readonly number[]): Array<{ flops: number; loss: number }> {
  return points.map((p) => ({ flops: p.flops, loss: mean(seeds.map((s) => p.lossBySeed[s])) }));
}

/** The headline on all seeds' means. */
export function seedMeanComputeRatio(muon: readonly SeededPoint[], adamw: readonly SeededPoint[]): ComputeRatioSummary {
  const all = checkSeeds(muon, adamw);
  return computeRatioSummary(meanOverSeeds(muon, all), meanOverSeeds(adamw, all));
}

function checkSeeds(muon: readonly SeededPoint[], adamw: readonly SeededPoint[]): number[] {
  const seeds = adamw[0]?.lossBySeed.length ?? 0;
  if (seeds === 0 || muon.length !== adamw.length || [...muon, ...adamw].some((p) => p.lossBySeed.length !== seeds)) {
    throw new ArgumentError('the compute ratio needs the same sizes and the same seeds (≥ 1) for both optimizers');
  }
  return Array.from({ length: seeds }, (_, i) => i);
}

/** Linear-interpolated quantile (numpy's default) of sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(sorted.length - 1, lower + 1);
  return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
}

/** The bootstrap interval of the headline over whole seeds; null with fewer than 2 seeds (nothing to resample). */
export function bootstrapComputeRatio(
  muon: readonly SeededPoint[],
  adamw: readonly SeededPoint[],
  options: { level?: number; resamples?: number; seed?: number } = {},
): ComputeRatioInterval | null {
  const seeds = checkSeeds(muon, adamw).length;
  if (seeds < 2) return null;
  const level = options.level ?? 0.9;
  const resamples = options.resamples ?? 1000;
  const uniform = seededUniform(options.seed ?? 1);
  const ratios: number[] = [];
  let undefinedResamples = 0;
  for (let b = 0; b < resamples; ++b) {
    const drawn = Array.from({ length: seeds }, () => Math.floor(uniform() * seeds));
    const { ratio } = computeRatioSummary(meanOverSeeds(muon, drawn), meanOverSeeds(adamw, drawn));
    if (ratio === null) undefinedResamples += 1;
    else ratios.push(ratio);
  }
  if (ratios.length === 0) return null;
  ratios.sort((x, y) => x - y);
  return {
    method: `percentile bootstrap over whole seeds (paired across optimizers and sizes), ${resamples} resamples`,
    level, low: quantile(ratios, (1 - level) / 2), high: quantile(ratios, (1 + level) / 2), resamples, undefinedResamples,
  };
}
