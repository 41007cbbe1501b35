/**
 * The accumulated train step (one native job: micro-batches, clipping, optimizer, routing-bias update).
 * Its single-batch path is the train step that models-parity checks against transformers' gradients, so
 * equalities with it tie the accumulated path to that oracle.
 */
import { AdamW, CausalLM, Muon, Tensor, tensor } from '../src';
import { moonlightTiny, qwen2Tiny } from './helpers/model_configs';

const rows = [
  [1, 17, 42, 255, 3, 100, 77, 300, 8, 9],
  [5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
  [21, 2, 99, 4, 250, 6, 70, 8, 90, 10],
  [31, 32, 33, 34, 35, 36, 37, 38, 39, 40],
];

function maxDifference(a: Map<string, Tensor | null>, b: Map<string, Tensor | null>): number {
  let worst = 0;
  for (const [name, left] of a) {
    const right = b.get(name);
    if (left === null || right === null || right === undefined) throw new Error(`no tensor for ${name}`);
    worst = Math.max(worst, left.sub(right).abs().max().item() / Math.max(1e-6, right.abs().max().item()));
  }
  return worst;
}

describe('trainStepAccumulated', () => {
  test.each([
    ['deepseek_v3', moonlightTiny],
    ['qwen2', qwen2Tiny],
  ])('two micro-batches give the gradients, losses and expert load of the whole batch (%s)', async (_name, config) => {
    const whole = CausalLM.fromConfig(config, { seed: 3 });
    const split = CausalLM.fromConfig(config, { seed: 3 });
    const options = { routerBiasUpdateRate: 0.01 };
    const wholeMetrics = await whole.trainStepAccumulated([{ inputIds: rows, labels: rows }], null, options);
    const splitMetrics = await split.trainStepAccumulated(
      [{ inputIds: rows.slice(0, 2), labels: rows.slice(0, 2) }, { inputIds: rows.slice(2), labels: rows.slice(2) }], null, options);
    expect(splitMetrics.tokens).toBe(wholeMetrics.tokens);
    expect(splitMetrics.tokens).toBe(4 * 9);
    expect(splitMetrics.lmLoss).toBeCloseTo(wholeMetrics.lmLoss, 5);
    expect(splitMetrics.auxLoss).toBeCloseTo(wholeMetrics.auxLoss, 6);
    expect(splitMetrics.gradNorm).toBeCloseTo(wholeMetrics.gradNorm, 4);
    expect(splitMetrics.expertLoad).toEqual(wholeMetrics.expertLoad);
    expect(maxDifference(split.namedGradients(), whole.namedGradients())).toBeLessThan(1e-4);
    // The routing bias moved once, by the summed load.
    for (const [layer, bias] of whole.routerBiases()) {
      expect(split.routerBiases().get(layer)!.allclose(bias, { atol: 0, rtol: 0 })).toBe(true);
    }
    whole.dispose();
    split.dispose();
  });

  test.each([
    ['muon', (model: CausalLM) => new Muon(model.namedParameters({ expertStacks: true }), { lr: 0.02 })],
    ['adamw', (model: CausalLM) => new AdamW(model.namedParameters({ expertStacks: true }), { lr: 0.01 })],
  ])('with %s inside the job it is bit-identical to trainStep + optimizer.step + zeroGrad', async (_name, makeOptimizer) => {
    const inJob = CausalLM.fromConfig(moonlightTiny, { seed: 5 });
    const separate = CausalLM.fromConfig(moonlightTiny, { seed: 5 });
    const inJobOptimizer = makeOptimizer(inJob);
    const separateOptimizer = makeOptimizer(separate);
    const ids = tensor(rows, { dtype: 'int64' });
    for (let step = 0; step < 3; step++) {
      const a = await inJob.trainStepAccumulated([{ inputIds: ids, labels: ids }], inJobOptimizer, { maxGradNorm: 0.5 });
      const b = await separate.trainStep(ids, { labels: ids, maxGradNorm: 0.5 });
      await separateOptimizer.step();
      separateOptimizer.zeroGrad();
      expect(a.loss).toBe(b.loss);
      expect(a.gradNorm).toBe(b.gradNorm);
      expect(a.optimizerSkipped).toBe(false);
    }
    const after = separate.stateDict();
    for (const [name, value] of inJob.stateDict()) {
      expect([name, value.allclose(after.get(name)!, { atol: 0, rtol: 0 })]).toEqual([name, true]);
    }
    // The spent gradients were dropped.
    expect([...inJob.namedGradients().values()].every((grad) => grad === null)).toBe(true);
    expect(inJobOptimizer.stepCount).toBe(3);
    inJob.dispose();
    separate.dispose();
  });

  test('bad micro-batches are typed errors', async () => {
    const model = CausalLM.fromConfig(qwen2Tiny, { seed: 1 });
    await expect(model.trainStepAccumulated([], null)).rejects.toThrow(/non-empty array/);
    await expect(model.trainStepAccumulated([{ inputIds: rows } as never], null)).rejects.toThrow(/microBatches\[0\] needs inputIds and labels/);
    await expect(model.trainStepAccumulated([{ inputIds: rows, labels: rows }], {} as never)).rejects.toThrow(/Muon or AdamW/);
    model.dispose();
  });
});
