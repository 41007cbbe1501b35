/**
 * Optimizer state: named tensors that restore a run exactly, Muon's single buffer per matrix (half of
 * AdamW's state), routing by name and shape, param-group overrides and setLr.
 */
import { AdamW, manualSeed, Muon, randn, Tensor } from '../src';

function model(): Record<string, Tensor> {
  return {
    'model.embed_tokens.weight': randn([20, 8]),
    'model.layers.0.self_attn.q_proj.weight': randn([8, 8]),
    'model.layers.0.mlp.experts.down_proj': randn([3, 8, 12]),
    'model.layers.0.input_layernorm.weight': randn([8]),
    'lm_head.weight': randn([20, 8]),
  };
}

const clone = (values: Record<string, Tensor>) => Object.fromEntries(Object.entries(values).map(([n, t]) => [n, t.clone()]));

describe('optimizer state', () => {
  test('routing: Muon for matrices and expert stacks, AdamW for embeddings, LM head and vectors', () => {
    manualSeed(1);
    const groups = new Muon(model()).paramGroups;
    expect(groups.map((g) => [g.name, g.optimizer, g.parameters])).toEqual([
      ['default/adamw', 'adamw', ['model.embed_tokens.weight', 'model.layers.0.input_layernorm.weight', 'lm_head.weight']],
      ['default/muon', 'muon', ['model.layers.0.self_attn.q_proj.weight', 'model.layers.0.mlp.experts.down_proj']],
    ]);
  });

  test('explicit param groups override optimizer, lr and weight decay; setLr by group', () => {
    manualSeed(1);
    const p = model();
    const { 'lm_head.weight': head, ...rest } = p;
    const optimizer = new Muon(
      [
        { name: 'head', params: { 'lm_head.weight': head }, optimizer: 'muon', lr: 0.02, weightDecay: 0 },
        { name: 'body', params: rest },
      ],
      { lr: 1e-3 },
    );
    expect(optimizer.paramGroups.map((g) => [g.name, g.optimizer, g.lr, g.weightDecay])).toEqual([
      ['head/muon', 'muon', 0.02, 0],
      ['body/adamw', 'adamw', 1e-3, 0.1],
      ['body/muon', 'muon', 1e-3, 0.1],
    ]);
    optimizer.setLr(5e-4, { group: 'body/muon' });
    expect(optimizer.paramGroups.map((g) => g.lr)).toEqual([0.02, 1e-3, 5e-4]);
    optimizer.setLr(1e-4);
    expect(optimizer.paramGroups.every((g) => g.lr === 1e-4)).toBe(true);
  });

  test('stateDict → loadStateDict into a fresh optimizer continues the run bit for bit', async () => {
    manualSeed(2);
    const a = model();
    const grads = Array.from({ length: 5 }, () => Object.fromEntries(Object.entries(a).map(([n, t]) => [n, randn([...t.shape])])));
    const first = new Muon(a, { lr: 0.02 });
    for (const g of grads.slice(0, 2)) await first.step(g);
    const b = clone(a);
    const saved = clone(first.stateDict());
    const second = new Muon(b, { lr: 0.7 }); // hyper-parameters come from the state dict
    second.loadStateDict(saved);
    expect(second.paramGroups.map((g) => g.lr)).toEqual([0.02, 0.02]);
    expect(second.stepCount).toBe(2);
    for (const g of grads.slice(2)) {
      await first.step(g);
      await second.step(g);
    }
    for (const name of Object.keys(a)) expect([name, a[name].equal(b[name])]).toEqual([name, true]);
  });

  test('state names and stateBytes: one momentum buffer per Muon matrix, exactly half of AdamW', () => {
    manualSeed(3);
    const matrices = { 'layers.0.q': randn([64, 32]), 'layers.0.up': randn([32, 96]), 'experts.w': randn([4, 16, 8]) };
    const muon = new Muon(matrices);
    const adamw = new AdamW(matrices);
    const bytesOfParams = Object.values(matrices).reduce((total, t) => total + t.numel * 4, 0);
    expect(muon.stateBytes()).toBe(bytesOfParams);
    expect(adamw.stateBytes()).toBe(2 * bytesOfParams);
    expect(Object.keys(muon.stateDict()).filter((k) => k.startsWith('state.'))).toEqual([
      'state.layers.0.q.momentum_buffer',
      'state.layers.0.up.momentum_buffer',
      'state.experts.w.momentum_buffer',
    ]);
    expect(Object.keys(adamw.stateDict()).filter((k) => k.startsWith('state.layers.0.q'))).toEqual([
      'state.layers.0.q.exp_avg',
      'state.layers.0.q.exp_avg_sq',
      'state.layers.0.q.step',
    ]);
  });

  test('bfloat16 and float64 parameters keep their dtype, and so does their state', () => {
    for (const dtype of ['bfloat16', 'float64'] as const) {
      manualSeed(4);
      const w = randn([32, 64]).to({ dtype });
      const before = w.clone();
      const optimizer = new Muon({ w }, { lr: 0.02 });
      optimizer.stepSync({ w: randn([32, 64]).to({ dtype }) });
      expect(w.dtype).toBe(dtype);
      expect(optimizer.stateDict()['state.w.momentum_buffer'].dtype).toBe(dtype);
      expect(w.equal(before)).toBe(false);
    }
  });
});
