/** Helpers that shape a series before it is drawn: smoothing and thinning. */

/**
 * Exponential moving average with span `span` points (weight 2/(span+1) on the newest point), started at
 * the first value rather than at 0 so the curve has no warm-up bias. NaN points (non-finite losses) are
 * passed through as NaN and do not disturb the average. A span of 1 or less returns the values unchanged.
 */
export function exponentialMovingAverage(values: readonly number[], span: number): number[] {
  if (!(span > 1)) return values.slice();
  const weight = 2 / (span + 1);
  let average = Number.NaN;
  return values.map((value) => {
    if (Number.isNaN(value)) return Number.NaN;
    average = Number.isNaN(average) ? value : average + weight * (value - average);
    return average;
  });
}

/**
 * At most `maxPoints` of `points`, evenly strided, always keeping the first and the last: a 100k-step run
 * would otherwise make multi-megabyte SVGs and reports for no visible gain. Smoothing is done before this.
 */
export function thinPoints<T>(points: readonly T[], maxPoints: number): T[] {
  if (points.length <= maxPoints || maxPoints < 2) return points.slice();
  const stride = (points.length - 1) / (maxPoints - 1);
  const kept: T[] = [];
  for (let i = 0; i < maxPoints; i++) kept.push(points[Math.round(i * stride)]);
  return kept;
}
