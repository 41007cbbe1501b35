/**
 * Loss normalisation of an accumulated step by the step's labelled-token count: micro-batches with unequal
 * padding (labels -100) give the gradients and token-mean loss of the whole batch run at once — the mean over
 * all its labelled tokens, which models-parity checks against transformers — not the mean of micro-batch means.
 */
import { ArgumentError, CausalLM, Tensor } from '../src';
import { qwen2Tiny } from './helpers/model_configs';

const rows = [
  [1, 17, 42, 255, 3, 100, 77, 300, 8, 9],
  [5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
  [21, 2, 99, 4, 250, 6, 70, 8, 90, 10],
  [31, 32, 33, 34, 35, 36, 37, 38, 39, 40],
];
// Micro-batch 0 keeps 9 + 2 labelled tokens, micro-batch 1 keeps 9 + 6.
const labels = rows.map((row, i) => row.map((token, t) => ([1, 3].includes(i) && t >= (i === 1 ? 3 : 7) ? -100 : token)));

function maxRelativeDifference(a: Map<string, Tensor | null>, b: Map<string, Tensor | null>): number {
  let worst = 0;
  for (const [name, left] of a) {
    const right = b.get(name)!;
    worst = Math.max(worst, left!.sub(right).abs().max().item() / Math.max(1e-6, right.abs().max().item()));
  }
  return worst;
}

describe('token-weighted accumulation', () => {
  test('padded micro-batches give the whole batch’s token-mean loss and gradients', async () => {
    const whole = CausalLM.fromConfig(qwen2Tiny, { seed: 5 });
    const split = CausalLM.fromConfig(qwen2Tiny, { seed: 5 });
    const wholeMetrics = await whole.trainStepAccumulated([{ inputIds: rows, labels }], null);
    const splitMetrics = await split.trainStepAccumulated(
      [{ inputIds: rows.slice(0, 2), labels: labels.slice(0, 2) }, { inputIds: rows.slice(2), labels: labels.slice(2) }], null);
    expect(wholeMetrics.tokens).toBe(9 + 2 + 9 + 6);
    expect(splitMetrics.tokens).toBe(wholeMetrics.tokens);
    expect(splitMetrics.lmLoss).toBeCloseTo(wholeMetrics.lmLoss, 5);
    expect(maxRelativeDifference(split.namedGradients(), whole.namedGradients())).toBeLessThan(1e-4);
    // Each micro-batch's own mean loss, averaged 1/2 each, is a different number.
    const first = await split.forward(rows.slice(0, 2), { labels: labels.slice(0, 2) });
    const second = await split.forward(rows.slice(2), { labels: labels.slice(2) });
    const meanOfMeans = (first.loss!.item() + second.loss!.item()) / 2;
    expect(Math.abs(meanOfMeans - wholeMetrics.lmLoss)).toBeGreaterThan(1e-3);
    whole.dispose();
    split.dispose();
  });

  test('a step without any labelled token is an ArgumentError', async () => {
    const model = CausalLM.fromConfig(qwen2Tiny, { seed: 5 });
    const ignored = rows.map((row) => row.map(() => -100));
    await expect(model.trainStepAccumulated([{ inputIds: rows, labels: ignored }], null)).rejects.toThrow(ArgumentError);
    await expect(model.trainStepAccumulated([{ inputIds: rows, labels: ignored }], null)).rejects.toThrow(/no labelled token/);
    model.dispose();
  });
});
