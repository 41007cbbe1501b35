/**
 * MoE load balancing against hand-computed values on 2-expert toys: DeepSeek-V3's balance loss, the
 * aux-loss-free routing-bias update, and the per-layer expert load the train step reports.
 */
import { balanceLoss, CausalLM, tensor } from '../src';
import { moonlightTiny } from './helpers/model_configs';

// Two sequences of two tokens, two experts, one expert per token.
const scores = tensor([
  [[0.8, 0.2], [0.6, 0.6]],
  [[0.1, 0.9], [0.5, 0.3]],
]);
const indices = tensor([[[0], [1]], [[1], [1]]], { dtype: 'int64' });

describe('balance loss (hand-computed)', () => {
  test('sequence-wise (seq_aux)', () => {
    // Sequence 0: normalised scores [.8,.2], [.5,.5] → P = [.65,.35]; counts [1,1] → f = 2/(1·2)·[1,1] = [1,1]
    //   → Σ f·P = 1.0.  Sequence 1: [.1,.9], [.625,.375] → P = [.3625,.6375]; counts [0,2] → f = [0,2]
    //   → Σ f·P = 1.275.  Mean 1.1375, × α = 0.1 → 0.11375.
    expect(balanceLoss(scores, indices, { alpha: 0.1 }).item()).toBeCloseTo(0.11375, 6);
  });

  test('over the whole batch (seq_aux false)', () => {
    // P = mean of the four normalised rows = [2.025, 1.975] / 4 = [.50625, .49375]; counts [1,3]
    //   → f = 2/(1·4)·[1,3] = [.5, 1.5] → Σ f·P = .253125 + .740625 = .99375; × 0.1 → 0.099375.
    expect(balanceLoss(scores, indices, { alpha: 0.1, perSequence: false }).item()).toBeCloseTo(0.099375, 6);
  });

  test('gradient flows to the scores only through P', () => {
    const s = tensor([[[0.8, 0.2], [0.6, 0.6]]], { requiresGrad: true });
    const loss = balanceLoss(s, tensor([[[0], [1]]], { dtype: 'int64' }), { alpha: 1 });
    loss.backward();
    // L = Σ_i f_i · ½ Σ_t s_ti / (s_t0 + s_t1) with f = [1, 1] → L = ½ Σ_t 1 = 1 whatever s: zero gradient.
    expect(loss.item()).toBeCloseTo(1, 6);
    expect(s.grad!.abs().max().item()).toBeLessThan(1e-7);
  });
});

// A 2-expert MoE model: every feature of the real router, tiny.
const twoExperts = {
  ...moonlightTiny,
  n_routed_experts: 2,
  num_experts_per_tok: 1,
  n_shared_experts: 1,
  num_hidden_layers: 3,
  first_k_dense_replace: 1,
};
const batch = [
  [3, 14, 15, 92, 65, 35, 89, 79],
  [2, 71, 82, 81, 82, 84, 59, 4],
];

describe('train step: expert load and routing-bias update', () => {
  test('bias_e += γ·sign(mean load − load_e) from the load the step reports; not a gradient parameter', async () => {
    const model = CausalLM.fromConfig(twoExperts, { seed: 5 });
    const gamma = 0.01;
    let before = model.routerBiases();
    expect([...before.keys()]).toEqual([1, 2]);
    for (let step = 0; step < 3; step++) {
      const metrics = await model.trainStep(batch, { labels: batch, routerBiasUpdateRate: gamma, auxLossAlpha: 0 });
      expect(metrics.moeLayers).toEqual([1, 2]);
      const after = model.routerBiases();
      metrics.expertLoad.forEach((load, i) => {
        // Every one of the 16 tokens goes to exactly one expert.
        expect(load[0] + load[1]).toBe(16);
        const mean = (load[0] + load[1]) / 2;
        const expected = load.map((l) => Math.sign(mean - l) * gamma);
        const delta = after.get(metrics.moeLayers[i])!.sub(before.get(metrics.moeLayers[i])!).tolist() as number[];
        delta.forEach((d, e) => expect(d).toBeCloseTo(expected[e], 7));
      });
      before = after;
    }
    expect([...model.namedGradients().keys()].some((name) => name.includes('e_score_correction_bias'))).toBe(false);

    const frozen = model.routerBiases();
    await model.trainStep(batch, { labels: batch, routerBiasUpdateRate: 0 });
    for (const [layer, bias] of model.routerBiases()) expect(bias.equal(frozen.get(layer)!)).toBe(true);
    model.dispose();
  });

  test('with top-k = all experts the balance loss is exactly α per MoE layer and the load is uniform', async () => {
    // K = E = 2: f_i = E/(K·T)·T = 1 for both experts, and Σ_i P_i = 1 (normalised scores) → L = α per layer.
    const model = CausalLM.fromConfig({ ...twoExperts, num_experts_per_tok: 2, aux_loss_alpha: 0.05 }, { seed: 6 });
    const metrics = await model.trainStep(batch, { labels: batch, routerBiasUpdateRate: 0 });  // α from the config
    expect(metrics.auxLoss).toBeCloseTo(2 * 0.05, 6);
    expect(metrics.loss).toBeCloseTo(metrics.lmLoss + metrics.auxLoss, 6);
    expect(metrics.expertLoad).toEqual([[16, 16], [16, 16]]);
    const perBatch = await model.trainStep(batch, { labels: batch, routerBiasUpdateRate: 0, auxLossAlpha: 0.2 });
    expect(perBatch.auxLoss).toBeCloseTo(2 * 0.2, 6);
    model.dispose();
  });
});
