/**
 * The scaling sweep's maths against hand-derived values: data generated from a known power law with offset
 * L = a·C^(−b) + c must give back a, b and c, and two laws with the same b and c whose a differ by a factor
 * k need compute in the ratio k^(1/b) for any common loss (C = ((L − c)/a)^(−1/b)).
 */
import { computeForLoss, computeRatioAtLoss, fitPowerLawWithOffset, lossAtCompute } from '../src/experiments/power_law_fit';
import { ArgumentError } from '../src/errors';

const law = { a: 40, b: 0.12, c: 1.6 };
const compute = [1e11, 3e11, 1e12, 3e12, 1e13, 3e13];
const points = compute.map((flops) => ({ flops, loss: law.a * flops ** -law.b + law.c }));

describe('power law with offset', () => {
  test('recovers a, b and c from exact data', () => {
    const fit = fitPowerLawWithOffset(points);
    expect(fit.b).toBeCloseTo(law.b, 4);
    expect(fit.c).toBeCloseTo(law.c, 4);
    expect(fit.a / law.a).toBeCloseTo(1, 3);
    expect(fit.rmsLogError).toBeLessThan(1e-6);
  });

  test('four points (the sweep has one per size) still recover the law', () => {
    const fit = fitPowerLawWithOffset(points.slice(1, 5));
    expect(fit.b).toBeCloseTo(law.b, 3);
    expect(fit.c).toBeCloseTo(law.c, 3);
  });

  test('with ±0.5 % deterministic noise the fit stays close and its error reports the noise', () => {
    const noisy = points.map((p, i) => ({ flops: p.flops, loss: p.loss * (1 + (i % 2 === 0 ? 0.005 : -0.005)) }));
    const fit = fitPowerLawWithOffset(noisy);
    for (const p of points) expect(Math.abs(lossAtCompute(fit, p.flops) / p.loss - 1)).toBeLessThan(0.01);
    expect(fit.rmsLogError).toBeGreaterThan(1e-3);
  });

  test('compute for a loss inverts the law; unreachable losses give null', () => {
    expect(computeForLoss({ ...law, rmsLogError: 0, points: 0 }, law.a * 1e12 ** -law.b + law.c)! / 1e12).toBeCloseTo(1, 9);
    expect(computeForLoss({ ...law, rmsLogError: 0, points: 0 }, law.c)).toBeNull();
    expect(computeForLoss({ ...law, rmsLogError: 0, points: 0 }, 1.0)).toBeNull();
  });

  test('compute ratio at equal loss is k^(1/b) when only a differs by k', () => {
    const k = 0.9;
    const adamw = { ...law, rmsLogError: 0, points: 0 };
    const muon = { ...law, a: law.a * k, rmsLogError: 0, points: 0 };
    for (const loss of [2.5, 3, 4]) expect(computeRatioAtLoss(muon, adamw, loss)!).toBeCloseTo(k ** (1 / law.b), 9);
    // k^(1/b) = 0.9^(1/0.12) ≈ 0.4158: a 10 % lower scale factor is a 58 % compute saving at this slope.
    expect(k ** (1 / law.b)).toBeCloseTo(0.4158, 3);
  });

  test('bad input is an ArgumentError', () => {
    expect(() => fitPowerLawWithOffset(points.slice(0, 2))).toThrow(ArgumentError);
    expect(() => fitPowerLawWithOffset([...points.slice(0, 3), { flops: -1, loss: 2 }])).toThrow(/finite positive/);
  });
});
