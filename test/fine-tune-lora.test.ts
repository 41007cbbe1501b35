/**
 * LoRA and freezing on tiny models written by transformers (DeepseekV3 with MLA + MoE, Qwen2 with tied embeddings):
 * fresh adapters (B = 0) leave the logits unchanged; after Muon steps the merged weights give the adapted logits;
 * Python PEFT loads our adapter folder onto the transformers model and gives our logits within 1e-4; transformers loads
 * our merged folder; optimizer state exists for the trainable tensors only.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CausalLM, ConfigError, loadLoraAdapter, loadSafetensors, Muon, saveLoraAdapter, Tensor } from '../src';
import { moonlightTiny, qwen2Tiny } from './helpers/model_configs';
import { runPythonFile } from './helpers/python';

const REFERENCE = path.join(__dirname, '..', 'scripts', 'oracle', 'transformers_reference.py');
const LORA_ORACLE = path.join(__dirname, 'helpers', 'lora_oracle.py');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lora-'));
const inputIds = [[1, 17, 42, 255, 3, 100, 77, 200, 9, 31], [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]];
const labels = inputIds;
const maxAbsDiff = (a: Tensor, b: Tensor): number => a.sub(b).abs().max().item();
const baseDir = (name: string): string => path.join(root, name, 'model');

async function logitsOf(model: CausalLM): Promise<Tensor> {
  const wasTraining = model.training;
  model.eval();
  const { logits } = await model.forward(inputIds);
  if (wasTraining) model.train();
  return logits;
}

async function trainSteps(model: CausalLM, steps: number, lr: number): Promise<number> {
  const optimizer = new Muon(model.namedParameters({ expertStacks: true }), { lr, weightDecay: 0 });
  let loss = 0;
  for (let i = 0; i < steps; i++) loss = (await model.trainStepAccumulated([{ inputIds, labels }], optimizer, { routerBiasUpdateRate: 0 })).lmLoss;
  return loss;
}

const numelOf = (tensors: Map<string, Tensor>): number => [...tensors.values()].reduce((sum, t) => sum + t.numel, 0);

beforeAll(() => {
  runPythonFile(REFERENCE, {
    cases: [
      { config: moonlightTiny, seed: 81, out_dir: path.join(root, 'deepseek_v3'), input_ids: inputIds, labels: null, attention_mask: null },
      { config: qwen2Tiny, seed: 82, out_dir: path.join(root, 'qwen2'), input_ids: inputIds, labels: null, attention_mask: null },
    ],
  }, 300_000);
}, 300_000);

interface Produced {
  adapted: Tensor;
  merged: Tensor;
  adapterDir: string;
  mergedDir: string;
}
const produced = new Map<string, Produced>();

const cases = [
  { name: 'qwen2', targets: 'all-linear' as const, adapted: 2 * 7 },
  // Every linear layer of DeepseekV3 with 'all-linear': attention, the dense MLP, the shared experts (not the routed ones).
  { name: 'deepseek_v3', targets: 'all-linear' as const, adapted: 3 * 4 + 3 + 2 * 3 },
];

describe.each(cases)('$name', ({ name, targets, adapted: adaptedCount }) => {
  test('fresh adapters leave the logits unchanged; the base is frozen and only A/B get optimizer state', async () => {
    const model = await CausalLM.fromPretrained(baseDir(name));
    try {
      const before = await logitsOf(model);
      const modules = model.attachLora({ rank: 4, alpha: 8, dropout: 0, targetModules: targets, seed: 3 });
      expect(modules).toHaveLength(adaptedCount);
      expect(modules.every((m) => !m.includes('.experts.') || m.includes('shared_experts'))).toBe(true);
      const after = await logitsOf(model);
      expect(maxAbsDiff(before, after)).toBe(0);

      const trainable = model.namedParameters();
      expect([...trainable.keys()].every((n) => /^base_model\.model\..+\.lora_[AB]\.weight$/.test(n))).toBe(true);
      expect(trainable.size).toBe(2 * adaptedCount);
      const a = trainable.get(`base_model.model.${modules[0]}.lora_A.weight`)!;
      expect(a.shape[0]).toBe(4);
      // Muon keeps one fp32 momentum buffer per (2-D) adapter matrix, and nothing for the frozen base.
      const optimizer = new Muon(model.namedParameters({ expertStacks: true }), { lr: 0.01 });
      expect(optimizer.stateBytes()).toBe(4 * numelOf(trainable));
      const full = await CausalLM.fromPretrained(baseDir(name));
      const fullOptimizer = new Muon(full.namedParameters({ expertStacks: true }), { lr: 0.01 });
      expect(fullOptimizer.stateBytes()).toBeGreaterThan(10 * optimizer.stateBytes());
      full.dispose();
    } finally {
      model.dispose();
    }
  });

  test('after Muon steps: merged weights give the adapted logits; the adapter folder round-trips', async () => {
    const model = await CausalLM.fromPretrained(baseDir(name));
    try {
      model.attachLora({ rank: 4, alpha: 8, dropout: 0, targetModules: targets, seed: 3 });
      const first = (await model.forward(inputIds, { labels })).loss!.item();
      const last = await trainSteps(model, 4, 0.02);
      expect(last).toBeLessThan(first);
      const adapted = await logitsOf(model);
      const adapterDir = path.join(root, `${name}-adapter`);
      const files = await saveLoraAdapter(model, adapterDir, { baseModelNameOrPath: baseDir(name) });
      expect(files.map((f) => path.basename(f)).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
      const config = JSON.parse(fs.readFileSync(path.join(adapterDir, 'adapter_config.json'), 'utf8'));
      expect(config).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, task_type: 'CAUSAL_LM' });

      const reloaded = await CausalLM.fromPretrained(baseDir(name));
      await loadLoraAdapter(reloaded, adapterDir);
      expect(maxAbsDiff(await logitsOf(reloaded), adapted)).toBe(0);
      reloaded.dispose();

      expect(model.mergeLora()).toBe(adaptedCount);
      expect(model.lora).toBeNull();
      const merged = await logitsOf(model);
      expect(maxAbsDiff(merged, adapted)).toBeLessThan(1e-4);
      const mergedDir = path.join(root, `${name}-merged`);
      await model.savePretrained(mergedDir);
      produced.set(name, { adapted, merged, adapterDir, mergedDir });
    } finally {
      model.dispose();
    }
  }, 60_000);
});

test('routed experts targeted by name: per-expert PEFT names, B = 0 identity, merged == adapted', async () => {
  const model = await CausalLM.fromPretrained(baseDir('deepseek_v3'));
  try {
    const before = await logitsOf(model);
    const modules = model.attachLora({
      rank: 2, alpha: 4, dropout: 0, seed: 1,
      targetModules: ['q_proj', 'kv_a_proj_with_mqa', 'kv_b_proj', 'o_proj', 'experts.gate_proj', 'experts.up_proj', 'experts.down_proj'],
    });
    // Attention of 3 layers, and 2 MoE layers × 8 experts × 3 projections named per expert.
    expect(modules).toHaveLength(3 * 4 + 2 * 8 * 3);
    expect(modules).toContain('model.layers.1.mlp.experts.7.down_proj');
    expect(maxAbsDiff(before, await logitsOf(model))).toBe(0);
    const names = [...model.namedParameters().keys()];
    expect(names).toContain('base_model.model.model.layers.2.mlp.experts.3.gate_proj.lora_B.weight');
    // Stacks go to the optimizer whole: [E, r, in] and [E, out, r].
    const stacks = model.namedParameters({ expertStacks: true });
    expect(stacks.get('base_model.model.model.layers.1.mlp.experts.gate_proj.lora_A.weight')!.shape).toEqual([8, 2, 64]);
    expect(stacks.get('base_model.model.model.layers.1.mlp.experts.down_proj.lora_B.weight')!.shape).toEqual([8, 64, 2]);
    await trainSteps(model, 3, 0.02);
    const adapted = await logitsOf(model);
    expect(maxAbsDiff(adapted, before)).toBeGreaterThan(1e-3);
    const dir = path.join(root, 'experts-adapter');
    await saveLoraAdapter(model, dir);
    const reloaded = await CausalLM.fromPretrained(baseDir('deepseek_v3'));
    await loadLoraAdapter(reloaded, dir);
    expect(maxAbsDiff(await logitsOf(reloaded), adapted)).toBe(0);
    reloaded.dispose();
    // Cached generation (MLA's absorbed kv_b_proj included) sees the adapters as the merged weights do.
    const generatedWithAdapters = (await model.eval().generate(inputIds, { maxNewTokens: 6 })).tokens;
    model.train();
    model.mergeLora();
    expect((await model.eval().generate(inputIds, { maxNewTokens: 6 })).tokens).toEqual(generatedWithAdapters);
    model.train();
    const merged = await logitsOf(model);
    expect(maxAbsDiff(merged, adapted)).toBeLessThan(1e-4);
    const mergedDir = path.join(root, 'experts-merged');
    await model.savePretrained(mergedDir);
    produced.set('experts', { adapted, merged, adapterDir: dir, mergedDir });
  } finally {
    model.dispose();
  }
}, 60_000);

test('Python PEFT loads our adapter folders (Qwen2 all-linear; DeepseekV3 attention + per-expert routed experts) onto the transformers models and gives our logits; transformers loads the merged folders', () => {
  // DeepseekV3's all-linear adapter is left out: PEFT 0.21 remaps every gate/up/down_proj target of a transformers-5
  // DeepseekV3 to the fused routed experts, so the dense MLP's and shared experts' adapters have nowhere to go there.
  // Attention + routed experts ('experts') is what PEFT can place: it fuses our per-expert adapters itself.
  const names = ['qwen2', 'experts'];
  const base = (name: string): string => baseDir(name === 'experts' ? 'deepseek_v3' : name);
  const jobs = [];
  for (const name of names) {
    const p = produced.get(name)!;
    jobs.push({ kind: 'peft_logits', base_dir: base(name), adapter_dir: p.adapterDir, input_ids: inputIds, out: path.join(root, `${name}-peft.safetensors`) });
    jobs.push({ kind: 'logits', model_dir: p.mergedDir, input_ids: inputIds, out: path.join(root, `${name}-merged.safetensors`) });
  }
  const results = runPythonFile<{ results: Array<Record<string, unknown>> }>(LORA_ORACLE, { jobs }, 300_000).results;
  return (async () => {
    // PEFT's adapted modules: qwen2's 14 Linear; the attention's 12 Linear and, per MoE layer, its wrapped experts (2 entries).
    const peftModules = [14, 12 + 2 * 2];
    for (const [i, name] of names.entries()) {
      const p = produced.get(name)!;
      expect(results[2 * i].adapted_modules).toBe(peftModules[i]);
      const peft = (await loadSafetensors(path.join(root, `${name}-peft.safetensors`))).logits;
      console.log(`${name}: PEFT vs ours max |Δlogit| ${maxAbsDiff(peft, p.adapted).toExponential(2)}, merged vs adapted ${maxAbsDiff(p.merged, p.adapted).toExponential(2)}`);
      expect(maxAbsDiff(peft, p.adapted)).toBeLessThan(1e-4);
      expect(results[2 * i + 1]).toEqual({ missing: [], unexpected: [] });
      const merged = (await loadSafetensors(path.join(root, `${name}-merged.safetensors`))).logits;
      expect(maxAbsDiff(merged, p.merged)).toBeLessThan(1e-4);
    }
  })();
}, 300_000);

test('LoRA on a bf16 base (the default dtype of a bf16 folder): the base stays bf16, adapters are fp32, and after Muon steps the logits match PEFT on the same bf16 base', async () => {
  const fp32 = await CausalLM.fromPretrained(baseDir('qwen2'), { dtype: 'float32' });
  const bf16Dir = path.join(root, 'qwen2-bf16', 'model');
  await fp32.savePretrained(bf16Dir, { dtype: 'bfloat16' });
  fp32.dispose();
  const model = await CausalLM.fromPretrained(bf16Dir);
  try {
    const base = model.stateDict();
    expect(base.get('model.layers.0.self_attn.q_proj.weight')!.dtype).toBe('bfloat16');
    base.forEach((t) => t.dispose());
    const baseLogits = (await logitsOf(model)).to({ dtype: 'float32' });
    model.attachLora({ targetModules: 'all-linear', rank: 4, alpha: 8 });
    const trainable = model.namedParameters();
    expect(new Set([...trainable.values()].map((t) => t.dtype))).toEqual(new Set(['float32']));
    trainable.forEach((t) => t.dispose());
    await trainSteps(model, 3, 0.02);
    const ours = (await logitsOf(model)).to({ dtype: 'float32' });
    const adapterDir = path.join(root, 'qwen2-bf16', 'adapter');
    await saveLoraAdapter(model, adapterDir, { baseModelNameOrPath: bf16Dir });
    const out = path.join(root, 'qwen2-bf16-peft.safetensors');
    runPythonFile(LORA_ORACLE, { jobs: [{ kind: 'peft_logits', base_dir: bf16Dir, adapter_dir: adapterDir, input_ids: inputIds, out, dtype: 'bfloat16' }] }, 300_000);
    const peft = (await loadSafetensors(out)).logits;
    const scale = peft.abs().max().item() as number;
    const difference = maxAbsDiff(peft, ours);
    console.log(`qwen2 bf16 base: PEFT vs ours max |Δlogit| ${difference.toExponential(2)} (logit scale ${scale.toFixed(2)})`);
    // Both run the base in bf16 (8 significant bits): a few units of 2^-8 of the scale apart, no more.
    expect(difference).toBeLessThanOrEqual(scale * 2 ** -5);
    expect(maxAbsDiff(baseLogits, ours)).toBeGreaterThan(4 * scale * 2 ** -5); // the adapters did change the model
  } finally {
    model.dispose();
  }
}, 300_000);

test('freezing by pattern: no gradient, no optimizer state, weights unchanged by a step; bad patterns are ConfigErrors', async () => {
  const model = await CausalLM.fromPretrained(baseDir('deepseek_v3'));
  try {
    const frozen = [...model.freeze('embed_tokens'), ...model.freeze(/mlp\.gate\.weight$/)];
    expect(frozen).toEqual(['model.embed_tokens.weight', 'model.layers.1.mlp.gate.weight', 'model.layers.2.mlp.gate.weight']);
    const trainable = model.namedParameters({ expertStacks: true });
    expect(frozen.some((name) => trainable.has(name))).toBe(false);
    // Muon: 1 buffer for matrices; AdamW (its 1-D tensors, lm_head): 2 buffers each.
    const expected = [...trainable].reduce((sum, [n, t]) => sum + t.numel * 4 * (t.shape.length >= 2 && !n.includes('lm_head') ? 1 : 2), 0);
    const optimizer = new Muon(trainable, { lr: 0.01 });
    expect(optimizer.stateBytes()).toBe(expected);
    const embedBefore = model.stateDict().get('model.embed_tokens.weight')!.clone();
    await model.trainStepAccumulated([{ inputIds, labels }], optimizer);
    expect(model.stateDict().get('model.embed_tokens.weight')!.equal(embedBefore)).toBe(true);
    expect(model.namedGradients().has('model.embed_tokens.weight')).toBe(false);
    expect(() => model.freeze('(')).toThrow(ConfigError);
    expect(() => model.attachLora({ targetModules: ['no_such_proj'] })).toThrow(/matches no linear layer/);
    expect(() => model.attachLora({ rank: 0 })).toThrow(ConfigError);
  } finally {
    model.dispose();
  }
}, 60_000);
