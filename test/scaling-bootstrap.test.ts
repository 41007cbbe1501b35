/**
 * The compute ratio's interval over seeds on synthetic sweeps with a known answer: AdamW's losses follow
 * L = a·C^(−b) + c and Muon's the same law with a scaled by k, so C_Muon/C_AdamW = k^(1/b) at every loss;
 * each seed adds its own small multiplicative noise to every point. The bootstrap over whole seeds must
 * bracket the true ratio, shrink to it without noise, and bracket 1 when the optimizers are the same.
 */
import { bootstrapComputeRatio, seedMeanComputeRatio, SeededPoint } from '../src/experiments/compute_ratio';
import { ArgumentError } from '../src/errors';

const law = { a: 40, b: 0.12, c: 1.6 };
const compute = [1e11, 4e11, 1.6e12, 6.4e12];
const seeds = 5;

/** Deterministic standard normals (Box–Muller on a fixed LCG), so the test is the same on every run. */
function normals(seed: number): () => number {
  let state = seed;
  const uniform = (): number => {
    state = (state * 1664525 + 1013904223) % 4294967296;
    return (state + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

function sweep(k: number, noise: number, seed: number): SeededPoint[] {
  const normal = normals(seed);
  return compute.map((flops) => {
    const loss = law.a * k * flops ** -law.b + law.c;
    return { flops, lossBySeed: Array.from({ length: seeds }, () => loss * (1 + noise * normal())) };
  });
}

test('with 0.3 % per-seed noise the 90 % interval brackets the known ratio k^(1/b) and the headline is near it', () => {
  const k = 0.95;
  const truth = k ** (1 / law.b); // 0.652
  const muon = sweep(k, 0.003, 7);
  const adamw = sweep(1, 0.003, 11);
  const headline = seedMeanComputeRatio(muon, adamw).ratio!;
  expect(Math.abs(Math.log(headline / truth))).toBeLessThan(0.25);
  const interval = bootstrapComputeRatio(muon, adamw, { resamples: 400 })!;
  expect(interval.level).toBe(0.9);
  expect(interval.low).toBeLessThan(truth);
  expect(interval.high).toBeGreaterThan(truth);
  expect(interval.high).toBeLessThan(1); // the effect is far larger than the noise
  expect(interval.method).toMatch(/whole seeds/);
  // Reproducible: the resampling has a fixed seed.
  expect(bootstrapComputeRatio(muon, adamw, { resamples: 400 })).toEqual(interval);
});

test('without noise every resample is the same sweep: the interval collapses onto k^(1/b)', () => {
  const k = 0.9;
  const interval = bootstrapComputeRatio(sweep(k, 0, 1), sweep(1, 0, 2), { resamples: 50 })!;
  expect(interval.low).toBeCloseTo(k ** (1 / law.b), 3);
  expect(interval.high).toBeCloseTo(k ** (1 / law.b), 3);
});

test('the same optimizer twice: the interval brackets 1', () => {
  const interval = bootstrapComputeRatio(sweep(1, 0.003, 3), sweep(1, 0.003, 5), { resamples: 400 })!;
  expect(interval.low).toBeLessThan(1);
  expect(interval.high).toBeGreaterThan(1);
});

test('one seed has no interval; mismatched seeds are an ArgumentError', () => {
  const one = compute.map((flops) => ({ flops, lossBySeed: [law.a * flops ** -law.b + law.c] }));
  expect(bootstrapComputeRatio(one, one)).toBeNull();
  expect(() => bootstrapComputeRatio(sweep(1, 0, 1), one)).toThrow(ArgumentError);
});
