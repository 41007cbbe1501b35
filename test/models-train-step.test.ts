/** The native train step: gradient norm and clipping on the raw gradients, and bf16-mixed precision. */
import { CausalLM, Muon, Tensor } from '../src';
import { moonlightTiny, qwen2Tiny } from './helpers/model_configs';

const batch = [
  [1, 17, 42, 255, 3, 100, 77, 300, 8, 9],
  [5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
];

function globalNorm(grads: Map<string, Tensor | null>): number {
  let sumSquares = 0;
  for (const grad of grads.values()) if (grad) sumSquares += grad.pow(2).sum().item();
  return Math.sqrt(sumSquares);
}

describe('train step', () => {
  test('reports the raw gradient norm and clips to maxGradNorm like clip_grad_norm_', async () => {
    const model = CausalLM.fromConfig(moonlightTiny, { seed: 11 });
    const step = { labels: batch, auxLossAlpha: 0, routerBiasUpdateRate: 0 };
    const raw = await model.trainStep(batch, step);
    expect(raw.clipCoefficient).toBe(1);
    expect(raw.tokens).toBe(18);
    const rawNorm = globalNorm(model.namedGradients());
    expect(raw.gradNorm).toBeCloseTo(rawNorm, 4);
    const rawGrad = model.namedGradients().get('model.layers.1.mlp.experts.2.down_proj.weight')!.clone();

    const maxGradNorm = rawNorm / 10;
    const clipped = await model.trainStep(batch, { ...step, maxGradNorm });
    expect(clipped.gradNorm).toBeCloseTo(rawNorm, 4);  // the norm before clipping
    expect(clipped.clipCoefficient).toBeCloseTo(maxGradNorm / (rawNorm + 1e-6), 6);
    expect(globalNorm(model.namedGradients())).toBeCloseTo(maxGradNorm, 4);
    const scaled = model.namedGradients().get('model.layers.1.mlp.experts.2.down_proj.weight')!;
    expect(scaled.sub(rawGrad.mul(clipped.clipCoefficient)).abs().max().item()).toBeLessThan(1e-7);

    // A bound above the norm leaves the gradients alone.
    const loose = await model.trainStep(batch, { ...step, maxGradNorm: rawNorm * 2 });
    expect(loose.clipCoefficient).toBe(1);
    model.dispose();
  });

  test.each([
    ['deepseek_v3', moonlightTiny],
    ['qwen2', qwen2Tiny],
  ])('bf16-mixed (%s): fp32 master weights and gradients, close to the fp32 step', async (_name, config) => {
    const model = CausalLM.fromConfig(config, { seed: 12 });
    const step = { labels: batch, auxLossAlpha: 0, routerBiasUpdateRate: 0 };
    const fp32 = await model.trainStep(batch, step);
    const fp32Grads = model.namedGradients();
    const mixed = await model.trainStep(batch, { ...step, precision: 'bf16-mixed' });
    expect(Math.abs(mixed.loss - fp32.loss)).toBeLessThan(0.02 * fp32.loss);
    expect(mixed.loss).not.toBe(fp32.loss);  // bf16 compute really happened
    const mixedGrads = model.namedGradients();
    let diff = 0;
    for (const [name, grad] of mixedGrads) {
      expect(grad!.dtype).toBe('float32');
      diff += grad!.sub(fp32Grads.get(name)!).pow(2).sum().item();
    }
    expect(Math.sqrt(diff) / fp32.gradNorm).toBeLessThan(0.05);
    expect(model.namedParameters().get('model.norm.weight')!.dtype).toBe('float32');
    // Autocast is scoped to the step: a later fp32 step is exact again.
    const again = await model.trainStep(batch, step);
    expect(again.loss).toBe(fp32.loss);
    model.dispose();
  });

  test('an optimizer trains the model from the step\'s gradients (experts as [E, out, in] stacks)', async () => {
    const model = CausalLM.fromConfig(moonlightTiny, { seed: 13 });
    const params = model.namedParameters({ expertStacks: true });
    const optimizer = new Muon(params, { lr: 0.02 });
    const step = { labels: batch, auxLossAlpha: 0 };
    const first = await model.trainStep(batch, step);
    // The tensors namedParameters() hands out are the model's own: their .grad is the step's gradient.
    const norm = model.namedParameters().get('model.norm.weight')!;
    expect(norm.grad!.equal(model.namedGradients().get('model.norm.weight')!)).toBe(true);
    const stackBefore = params.get('model.layers.1.mlp.experts.up_proj.weight')!.clone();
    await optimizer.step();
    expect(params.get('model.layers.1.mlp.experts.up_proj.weight')!.equal(stackBefore)).toBe(false);
    let last = first.loss;
    for (let i = 0; i < 5; i++) {
      last = (await model.trainStep(batch, step)).loss;
      await optimizer.step();
    }
    expect(last).toBeLessThan(first.loss * 0.8);  // memorising one batch
    model.dispose();
  });
});
