/**
 * The CausalLM API: construction and initialisation, parameter naming (checkpoint names, expert stacks),
 * loading, train/eval, and parameter counts against Moonlight's published figures.
 */
import { CausalLM, CheckpointError, countParameters, parseModelConfig, Tensor, zeros } from '../src';
import { llamaTiny, moonlight16B, moonlightTiny, qwen2Tiny } from './helpers/model_configs';

const maxAbs = (t: Tensor): number => t.abs().max().item();

describe('numParameters from the config', () => {
  test("Moonlight-16B-A3B: 15.29 B total and 2.24 B activated, excluding embeddings (its README's figures)", () => {
    const config = parseModelConfig(moonlight16B);
    const total = countParameters(config, { excludeEmbeddings: true });
    const activated = countParameters(config, { excludeEmbeddings: true, activatedOnly: true });
    expect((total / 1e9).toFixed(2)).toBe('15.29');
    expect((activated / 1e9).toFixed(2)).toBe('2.24');
    // With embeddings and lm_head (163840 × 2048 each) the card rounds to "16B total, 3B activated".
    expect(Math.round(countParameters(config) / 1e9)).toBe(16);
    expect(Math.round(countParameters(config, { activatedOnly: true }) / 1e9)).toBe(3);
  });

  test('agrees with the tensors the model actually holds', () => {
    for (const config of [moonlightTiny, qwen2Tiny, llamaTiny]) {
      const model = CausalLM.fromConfig(config);
      const held = [...model.namedParameters().values()].reduce((sum, t) => sum + t.numel, 0);
      expect(model.numParameters()).toBe(held);
      const embeddings = model.namedParameters().get('model.embed_tokens.weight')!.numel;
      const tied = model.config.tieWordEmbeddings;
      expect(model.numParameters({ excludeEmbeddings: true })).toBe(held - embeddings * (tied ? 1 : 2));
      model.dispose();
    }
  });
});

describe('construction and initialisation', () => {
  test('initialises as transformers does: normal(0, 0.02) weights, zero biases, unit norms, zero routing bias', () => {
    const model = CausalLM.fromConfig({ ...qwen2Tiny, initializer_range: 0.02 }, { seed: 7 });
    const params = model.namedParameters();
    const embed = params.get('model.embed_tokens.weight')!;
    expect(Math.abs(embed.mean().item())).toBeLessThan(0.002);
    const std = embed.sub(embed.mean()).pow(2).mean().sqrt().item();
    expect(std).toBeGreaterThan(0.019);
    expect(std).toBeLessThan(0.021);
    expect(maxAbs(params.get('model.layers.0.self_attn.q_proj.bias')!)).toBe(0);
    expect(params.get('model.norm.weight')!.equal(params.get('model.norm.weight')!.mul(0).add(1))).toBe(true);
    model.dispose();

    const moe = CausalLM.fromConfig(moonlightTiny, { seed: 7 });
    const state = moe.stateDict();
    expect(maxAbs(state.get('model.layers.1.mlp.gate.e_score_correction_bias')!)).toBe(0);
    moe.dispose();
  });

  test('the seed decides the weights', () => {
    const a = CausalLM.fromConfig(moonlightTiny, { seed: 1 }).namedParameters();
    const b = CausalLM.fromConfig(moonlightTiny, { seed: 1 }).namedParameters();
    const c = CausalLM.fromConfig(moonlightTiny, { seed: 2 }).namedParameters();
    const name = 'model.layers.1.mlp.experts.3.down_proj.weight';
    expect(a.get(name)!.equal(b.get(name)!)).toBe(true);
    expect(a.get(name)!.equal(c.get(name)!)).toBe(false);
  });

  test('bfloat16 parameters on request', () => {
    const model = CausalLM.fromConfig(llamaTiny, { dtype: 'bfloat16' });
    expect(model.namedParameters().get('lm_head.weight')!.dtype).toBe('bfloat16');
    model.dispose();
  });
});

describe('parameter names and loading', () => {
  test('checkpoint names per expert, or whole [E, out, in] stacks', () => {
    const model = CausalLM.fromConfig(moonlightTiny);
    const names = [...model.namedParameters().keys()];
    expect(names).toContain('model.layers.0.self_attn.kv_a_proj_with_mqa.weight');
    expect(names).toContain('model.layers.0.mlp.gate_proj.weight');
    expect(names).toContain('model.layers.1.mlp.experts.7.up_proj.weight');
    expect(names).toContain('model.layers.2.mlp.shared_experts.down_proj.weight');
    expect(names).not.toContain('model.layers.1.mlp.gate.e_score_correction_bias');  // state, not a parameter
    expect(model.namedParameters().get('model.layers.1.mlp.experts.7.up_proj.weight')!.shape).toEqual([32, 64]);
    expect(model.namedParameters().get('model.layers.0.self_attn.kv_a_proj_with_mqa.weight')!.shape).toEqual([40, 64]);

    const stacks = model.namedParameters({ expertStacks: true });
    expect(stacks.get('model.layers.1.mlp.experts.gate_proj.weight')!.shape).toEqual([8, 32, 64]);
    expect(stacks.get('model.layers.1.mlp.experts.down_proj.weight')!.shape).toEqual([8, 64, 32]);

    // Loading one expert by its checkpoint name writes that slice of the stack.
    model.loadStateDict({ 'model.layers.1.mlp.experts.5.gate_proj.weight': zeros([32, 64]) }, { strict: false });
    const stack = model.namedParameters({ expertStacks: true }).get('model.layers.1.mlp.experts.gate_proj.weight')!;
    expect(maxAbs(stack.slice(0, 5, 6))).toBe(0);
    expect(maxAbs(stack.slice(0, 4, 5))).toBeGreaterThan(0);
    model.dispose();
  });

  test('a strict load names the missing, unknown or misshapen tensor', () => {
    const model = CausalLM.fromConfig(qwen2Tiny);
    const state = model.stateDict();
    const missing = new Map(state);
    missing.delete('model.layers.1.mlp.up_proj.weight');
    expect(() => model.loadStateDict(missing)).toThrow(CheckpointError);
    expect(() => model.loadStateDict(missing)).toThrow(/model\.layers\.1\.mlp\.up_proj\.weight/);
    const unknown = new Map(state).set('model.layers.9.foo', zeros([2]));
    expect(() => model.loadStateDict(unknown)).toThrow(/unknown tensor name 'model\.layers\.9\.foo'/);
    expect(() => model.loadStateDict({ 'model.norm.weight': zeros([3]) }, { strict: false })).toThrow(
      /model\.norm\.weight.*shape \[3\].*\[48\]/,
    );
    // The tied lm_head of a checkpoint is the embedding: accepted and ignored.
    expect(() => model.loadStateDict(new Map(state).set('lm_head.weight', zeros([384, 48])))).not.toThrow();
    model.dispose();
  });
});

describe('train() and eval()', () => {
  test('train mode records the graph (loss.backward works), eval mode does not', async () => {
    const model = CausalLM.fromConfig(moonlightTiny, { seed: 3 });
    expect(model.training).toBe(true);
    const ids = [[1, 2, 3, 4, 5, 6]];
    const { loss } = await model.forward(ids, { labels: ids });
    expect(loss!.requiresGrad).toBe(true);
    loss!.backward();
    const viaBackward = model.namedGradients();

    const metrics = await model.trainStep(ids, { labels: ids, auxLossAlpha: 0, routerBiasUpdateRate: 0 });
    expect(metrics.loss).toBeCloseTo(loss!.item(), 6);
    for (const [name, grad] of model.namedGradients()) {
      expect(maxAbs(grad!.sub(viaBackward.get(name)!))).toBeLessThan(1e-6);
    }

    model.eval();
    expect(model.training).toBe(false);
    const inference = await model.forward(ids, { labels: ids });
    expect(inference.loss!.requiresGrad).toBe(false);
    expect(inference.loss!.item()).toBeCloseTo(loss!.item(), 6);
    model.dispose();
  });
});

describe('config key styles', () => {
  test('transformers-4 (Moonlight) and transformers-5 keys give the same config', () => {
    const v4 = parseModelConfig(moonlightTiny);
    const { rope_theta: theta, torch_dtype: dtype, num_nextn_predict_layers: mtp, auto_map: _autoMap, ...rest } =
      moonlightTiny;
    const v5 = parseModelConfig({
      ...rest,
      rope_parameters: { rope_theta: theta, rope_type: 'default' },
      dtype,
      num_mtp_layers: mtp,
      head_dim: 8,  // = qk_rope_head_dim in transformers 5: must not be read as a head size
      qk_head_dim: 24,
      rope_interleave: true,
    });
    const { hf: _a, ...a } = v4;
    const { hf: _b, ...b } = v5;
    expect(b).toEqual(a);
  });
});
