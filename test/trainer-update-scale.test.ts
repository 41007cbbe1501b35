/**
 * Trainer's updateScaleByMatrixType against the update rule: a step is W ← W·(1 − lr·wd) − k·lr·U, so with
 * the same seed, batch and lr, the change past the decay, Δ_k = W_k − W_0·(1 − lr·wd), is exactly k·Δ_1 for
 * the scaled type and identical for every other matrix; the scheduled lr reaches the scaled group ×k.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Trainer, TrainerOptions } from '../src';
import { matrixType } from '../src/experiments/svd_entropy';

jest.setTimeout(120_000);

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'update-scale-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

const lr = 4e-3;
const weightDecay = 0.1;
const scaledType = 'o_proj';

function options(name: string, extra: TrainerOptions): TrainerOptions {
  return {
    model: 'moonlight-tiny', modelSize: { hiddenSize: 32, numLayers: 2, numHeads: 2 }, tokenizer: 'byte', dataset: 'moby-dick',
    batchSize: 4, seqLen: 32, lr, weightDecay, schedule: 'constant', maxSteps: 1, diagnosticsEvery: 0,
    cacheDir: path.join(scratch, 'cache'), outDir: path.join(scratch, name), ...extra,
  };
}

/** Every matrix's weights before and after one step. */
async function oneStep(name: string, extra: TrainerOptions): Promise<{ before: Map<string, Float32Array>; after: Map<string, Float32Array> }> {
  const trainer = new Trainer(options(name, extra));
  try {
    await trainer.setup();
    const read = (): Map<string, Float32Array> =>
      new Map([...trainer.model.namedParameters({ expertStacks: true })].map(([n, t]) => [n, Float32Array.from(t.toArray() as Float32Array)]));
    const before = read();
    await trainer.fit();
    return { before, after: read() };
  } finally {
    trainer.dispose();
  }
}

test('a factor k on one matrix type multiplies its update by k, leaves its weight decay and every other matrix alone', async () => {
  const plain = await oneStep('plain', {});
  const doubled = await oneStep('doubled', { updateScaleByMatrixType: { [scaledType]: 2 } });
  let scaledSeen = 0;
  for (const [name, w0] of plain.before) {
    expect(doubled.before.get(name)).toEqual(w0); // same seed: same initial weights
    const w1 = plain.after.get(name)!;
    const w2 = doubled.after.get(name)!;
    if (matrixType(name) !== scaledType) {
      expect(w2).toEqual(w1);
      continue;
    }
    scaledSeen += 1;
    let largest = 0;
    for (let i = 0; i < w0.length; ++i) {
      const decayed = w0[i] * (1 - lr * weightDecay);
      const delta1 = w1[i] - decayed;
      const delta2 = w2[i] - decayed;
      largest = Math.max(largest, Math.abs(delta1));
      expect(Math.abs(delta2 - 2 * delta1)).toBeLessThan(2e-7);
    }
    expect(largest).toBeGreaterThan(1e-4); // the step moved it
  }
  expect(scaledSeen).toBeGreaterThan(0);
});

test('under a schedule the scaled group keeps k × the scheduled lr and weight decay wd/k; unknown types are a ConfigError', async () => {
  const trainer = new Trainer(options('scheduled', { schedule: 'cosine', warmupSteps: 1, maxSteps: 3, updateScaleByMatrixType: { [scaledType]: 1.5 } }));
  try {
    await trainer.fit();
    const groups = trainer.optimizer.paramGroups;
    const scaled = groups.find((g) => g.name === `update-scale:${scaledType}/muon`)!;
    const rest = groups.find((g) => g.name === 'default/muon')!;
    expect(rest.lr).toBeGreaterThan(0);
    expect(rest.lr).toBeLessThan(lr);
    expect(scaled.lr / rest.lr).toBeCloseTo(1.5, 12);
    expect(scaled.weightDecay).toBeCloseTo(weightDecay / 1.5, 12);
    expect(scaled.parameters.every((n) => matrixType(n) === scaledType)).toBe(true);
  } finally {
    trainer.dispose();
  }
  const bad = new Trainer(options('bad', { updateScaleByMatrixType: { no_such_type: 2 } }));
  await expect(bad.fit()).rejects.toThrow(/matrix types the model does not have: no_such_type/);
  bad.dispose();
  expect(() => new Trainer(options('bad2', { updateScaleByMatrixType: { o_proj: 0 } }))).toThrow(/updateScaleByMatrixType\['o_proj'\]/);
});
