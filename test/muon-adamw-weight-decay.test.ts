/**
 * Muon's adamwWeightDecay: the AdamW-routed parameters (a norm gain, an embedding) decay with it, the Muon
 * matrices keep weightDecay. Oracles: torch.optim.AdamW with weight_decay = adamwWeightDecay for the AdamW
 * part (test/oracles/optimizer_reference.py, epsPlacement 'torch' on both sides), and the hand-derived
 * W·(1 − lr·weightDecay) for a Muon matrix under a zero gradient (zero momentum orthogonalizes to zero).
 */
import { ConfigError, Muon, Tensor, zeros } from '../src';
import { compareWithOracle, draw, problem } from './helpers/optim';

const LR = 1e-2;
const WEIGHT_DECAY = 0.1;
const ADAMW_WEIGHT_DECAY = 0.01;
const BETAS: [number, number] = [0.9, 0.95];
const EPS = 1e-8;
const p = problem({ 'model.embed_tokens.weight': [32, 16], 'model.norm.weight': [16], 'layers.0.w': [16, 24] }, 5, 41);
const ADAMW_ROUTED = ['model.embed_tokens.weight', 'model.norm.weight'];

const muon = (options: { adamwWeightDecay?: number }) => (params: Record<string, Tensor>) =>
  new Muon(params, { lr: LR, weightDecay: WEIGHT_DECAY, adamwBetas: BETAS, adamwEps: EPS, adamwEpsPlacement: 'torch', ...options });

function torchAdamW(make: (params: Record<string, Tensor>) => Muon, weightDecay: number): number {
  const result = compareWithOracle(p, make, 'torch-adamw', { lr: LR, weightDecay, betas: BETAS, eps: EPS });
  return Math.max(...ADAMW_ROUTED.map((name) => result[name].maxDiff));
}

describe('Muon adamwWeightDecay', () => {
  test('the AdamW-routed parameters match torch.optim.AdamW(weight_decay=adamwWeightDecay) within 1e-6', () => {
    expect(torchAdamW(muon({ adamwWeightDecay: ADAMW_WEIGHT_DECAY }), ADAMW_WEIGHT_DECAY)).toBeLessThanOrEqual(1e-6);
  });

  test('unset, they decay with weightDecay (so the test above tells the two apart)', () => {
    expect(torchAdamW(muon({}), WEIGHT_DECAY)).toBeLessThanOrEqual(1e-6);
    expect(torchAdamW(muon({}), ADAMW_WEIGHT_DECAY)).toBeGreaterThan(1e-5);
  });

  test('the Muon matrices keep weightDecay: W·(1 − lr·weightDecay) under a zero gradient', () => {
    const { params } = draw(p);
    const before = params['layers.0.w'].clone();
    const optimizer = muon({ adamwWeightDecay: 0 })(params);
    optimizer.stepSync({ 'layers.0.w': zeros([16, 24]) });
    const expected = before.mul(1 - LR * WEIGHT_DECAY);
    expect(params['layers.0.w'].sub(expected).abs().max().item()).toBeLessThanOrEqual(1e-6);
    expect(optimizer.paramGroups.map((g) => [g.name, g.weightDecay])).toEqual([
      ['default/adamw', 0],
      ['default/muon', WEIGHT_DECAY],
    ]);
  });

  test('a negative value is a ConfigError naming it', () => {
    expect(() => muon({ adamwWeightDecay: -1 })(draw(p).params)).toThrow(ConfigError);
    expect(() => muon({ adamwWeightDecay: -1 })(draw(p).params)).toThrow(/options\.adamwWeightDecay is -1; expected a finite number ≥ 0/);
  });
});
