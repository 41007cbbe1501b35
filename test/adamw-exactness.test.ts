/**
 * Our AdamW against torch.optim.AdamW (epsPlacement 'torch') and against Moonlight toy_train.py's AdamW
 * written from its formulas (epsPlacement 'moonlight'), 5 steps in float32, compared on W after each step.
 */
import { AdamW } from '../src';
import { compareWithOracle, problem, worst } from './helpers/optim';

const OPTIONS = { lr: 1e-2, weightDecay: 0.1, betas: [0.9, 0.95] as [number, number], eps: 1e-8 };
// 'tiny' has gradients near eps, where the two eps placements give visibly different steps.
const p = problem({ 'layers.0.w': [16, 24], 'layers.0.bias': [24], tiny: [8, 8] }, 5, 31, { tiny: 1e-8 });

describe('AdamW', () => {
  test("epsPlacement 'torch' (default) matches torch.optim.AdamW within 1e-6", () => {
    const result = worst(compareWithOracle(p, (params) => new AdamW(params, OPTIONS), 'torch-adamw', OPTIONS));
    expect(result.maxDiff).toBeLessThanOrEqual(1e-6);
  });

  test("epsPlacement 'moonlight' matches Moonlight's formula within 1e-6", () => {
    const make = (params: Record<string, import('../src').Tensor>) => new AdamW(params, { ...OPTIONS, epsPlacement: 'moonlight' });
    expect(worst(compareWithOracle(p, make, 'moonlight-adamw', OPTIONS)).maxDiff).toBeLessThanOrEqual(1e-6);
  });

  test('the two placements really differ where gradients are near eps (the tests above tell them apart)', () => {
    const make = (params: Record<string, import('../src').Tensor>) => new AdamW(params, { ...OPTIONS, epsPlacement: 'moonlight' });
    const result = compareWithOracle(p, make, 'torch-adamw', OPTIONS);
    expect(result.tiny.maxDiff).toBeGreaterThan(1e-4);
  });
});
