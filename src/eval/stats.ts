/** Summary statistics of per-item scores, as lm-evaluation-harness reports them. */

/**
 * Standard error of the mean of 0/1 scores: sample standard deviation / sqrt(n) = sqrt(p(1−p)/(n−1)), lm-eval's
 * mean_stderr. NaN for fewer than two items.
 */
export function accuracyStderr(accuracy: number, count: number): number {
  if (count < 2) return NaN;
  return Math.sqrt((accuracy * (1 - accuracy)) / (count - 1));
}

/** Index of the largest value; the first one on ties (numpy argmax, as lm-eval uses). */
export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
