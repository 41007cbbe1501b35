/**
 * Loss against training compute as a power law with an offset, L(C) = a · C^(−b) + c (the form of the
 * Moonlight paper's Fig. 3 fits plus the irreducible loss c that a small run cannot ignore), and the compute
 * ratio of two fits at equal loss.
 *
 * Fitting: for a fixed offset c < min L, log(L − c) = log a − b · log C is linear, so a and b come from
 * ordinary least squares in closed form; c is then chosen to minimise the squared error of log L
 * (a golden-section search on c ∈ [0, min L), refined after a coarse scan so a non-unimodal error cannot
 * trap it). No library is needed for three parameters and this keeps the fit exact and deterministic.
 */
import { ArgumentError } from '../errors';

export interface PowerLawFit {
  a: number;
  b: number;
  c: number;
  /** Root-mean-square error of log L over the points. */
  rmsLogError: number;
  points: number;
}

export interface ComputePoint {
  flops: number;
  loss: number;
}

function linearFit(xs: number[], ys: number[]): { slope: number; intercept: number } {
  const n = xs.length;
  const meanX = xs.reduce((s, x) => s + x, 0) / n;
  const meanY = ys.reduce((s, y) => s + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; ++i) {
    sxx += (xs[i] - meanX) ** 2;
    sxy += (xs[i] - meanX) * (ys[i] - meanY);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { slope, intercept: meanY - slope * meanX };
}

/** a, b of L − c = a·C^(−b) by least squares in log space, and the log-L error of the whole model. */
function fitWithOffset(points: readonly ComputePoint[], c: number): PowerLawFit {
  const logC = points.map((p) => Math.log(p.flops));
  const logExcess = points.map((p) => Math.log(p.loss - c));
  const { slope, intercept } = linearFit(logC, logExcess);
  const a = Math.exp(intercept);
  const b = -slope;
  let squares = 0;
  for (const p of points) squares += (Math.log(a * p.flops ** -b + c) - Math.log(p.loss)) ** 2;
  return { a, b, c, rmsLogError: Math.sqrt(squares / points.length), points: points.length };
}

export function fitPowerLawWithOffset(points: readonly ComputePoint[]): PowerLawFit {
  if (points.length < 3) throw new ArgumentError(`a power law with offset has 3 parameters: fit it to ≥ 3 points, got ${points.length}`);
  for (const p of points) {
    if (!(p.flops > 0) || !(p.loss > 0) || !Number.isFinite(p.flops) || !Number.isFinite(p.loss)) {
      throw new ArgumentError(`power-law points need finite positive FLOPs and loss, got ${JSON.stringify(p)}`);
    }
  }
  const minLoss = Math.min(...points.map((p) => p.loss));
  const error = (c: number): number => fitWithOffset(points, c).rmsLogError;
  // Coarse scan over [0, minLoss), then golden-section search around the best cell.
  const cells = 200;
  const top = minLoss * (1 - 1e-9);
  // Each error is computed once (the bootstrap over seeds refits thousands of times).
  let best = 0;
  let bestError = error(0);
  for (let i = 1; i < cells; ++i) {
    const e = error((top * i) / cells);
    if (e < bestError) {
      best = i;
      bestError = e;
    }
  }
  let lo = (top * Math.max(0, best - 1)) / cells;
  let hi = (top * Math.min(cells - 1, best + 1)) / cells;
  const ratio = (Math.sqrt(5) - 1) / 2;
  let x1 = hi - ratio * (hi - lo);
  let x2 = lo + ratio * (hi - lo);
  let e1 = error(x1);
  let e2 = error(x2);
  for (let iteration = 0; iteration < 100; ++iteration) {
    if (e1 < e2) {
      hi = x2;
      x2 = x1;
      e2 = e1;
      x1 = hi - ratio * (hi - lo);
      e1 = error(x1);
    } else {
      lo = x1;
      x1 = x2;
      e1 = e2;
      x2 = lo + ratio * (hi - lo);
      e2 = error(x2);
    }
  }
  return fitWithOffset(points, (lo + hi) / 2);
}

/** Compute the fit needs to reach `loss`: C = ((L − c) / a)^(−1/b); null when the fit never gets there. */
export function computeForLoss(fit: PowerLawFit, loss: number): number | null {
  if (!(loss > fit.c) || !(fit.b > 0)) return null;
  return ((loss - fit.c) / fit.a) ** (-1 / fit.b);
}

export function lossAtCompute(fit: PowerLawFit, flops: number): number {
  return fit.a * flops ** -fit.b + fit.c;
}

/** C_numerator(L) / C_denominator(L) for the same loss L (Muon/AdamW: < 1 means Muon needs less compute). */
export function computeRatioAtLoss(numerator: PowerLawFit, denominator: PowerLawFit, loss: number): number | null {
  const top = computeForLoss(numerator, loss);
  const bottom = computeForLoss(denominator, loss);
  return top === null || bottom === null ? null : top / bottom;
}
