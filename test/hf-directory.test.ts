// Hugging Face model folders both ways, against transformers: folders transformers saves (bf16, sharded)
// load in ours with its logits; folders we save load in transformers with no missing or unexpected keys
// and the same logits.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  CausalLM,
  CheckpointError,
  ConfigError,
  loadSafetensors,
  loadShardedSafetensors,
  pretrainedInfoOf,
  saveSafetensors,
  Tensor,
} from '../src';
import { moonlightTiny, qwen2Tiny } from './helpers/model_configs';
import { runPythonFile } from './helpers/python';

const oracle = path.join(__dirname, '..', 'scripts', 'oracle', 'hf_directory_reference.py');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-directory-'));
const inputIds = [
  [1, 17, 42, 255, 3, 100, 77, 200],
  [5, 6, 7, 8, 9, 10, 11, 12],
];
const cases = [
  { name: 'moonlight-tiny', config: moonlightTiny },
  { name: 'qwen2-tiny', config: qwen2Tiny },
];

const maxAbsDiff = (a: Tensor, b: Tensor) => a.sub(b).abs().max().item();

beforeAll(() => {
  runPythonFile(
    oracle,
    {
      action: 'make',
      cases: cases.map((c, i) => ({
        config: c.config,
        seed: 40 + i,
        dir: path.join(root, c.name),
        input_ids: inputIds,
        logits_path: path.join(root, `${c.name}-logits.safetensors`),
      })),
    },
    300_000,
  );
}, 300_000);

describe.each(cases)('$name', ({ name }) => {
  test('a bf16, sharded folder saved by transformers loads and gives transformers’ logits', async () => {
    const dir = path.join(root, name);
    expect(fs.existsSync(path.join(dir, 'model.safetensors.index.json'))).toBe(true);
    const model = await CausalLM.fromPretrained(dir, { dtype: 'float32' });
    expect(pretrainedInfoOf(model)?.generationConfig).not.toBeNull();
    const reference = (await loadSafetensors(path.join(root, `${name}-logits.safetensors`))).logits;
    const { logits } = await model.eval().forward(inputIds);
    expect(maxAbsDiff(logits, reference)).toBeLessThan(1e-4);
  });

  test('our savePretrained output loads in transformers with no missing/unexpected keys and the same logits', async () => {
    const model = await CausalLM.fromPretrained(path.join(root, name));
    const out = path.join(root, `${name}-ours`);
    const files = await model.savePretrained(out, { dtype: 'bfloat16', maxShardBytes: 100_000 });
    expect(files.map((f) => path.basename(f))).toContain('model.safetensors.index.json');
    const savedConfig = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(savedConfig.dtype ?? savedConfig.torch_dtype).toBe('bfloat16');
    const [check] = runPythonFile<{ results: Array<{ missing: string[]; unexpected: string[]; mismatched: string[]; warnings: string[] }> }>(
      oracle,
      { action: 'check', cases: [{ dir: out, input_ids: inputIds, logits_path: path.join(root, `${name}-ours-logits.safetensors`) }] },
      300_000,
    ).results;
    expect(check).toEqual({ missing: [], unexpected: [], mismatched: [], warnings: [] });
    const theirs = (await loadSafetensors(path.join(root, `${name}-ours-logits.safetensors`))).logits;
    // The default dtype is the folder's own (bf16 here); the comparison with transformers' fp32 load asks for fp32.
    const byDefault = await CausalLM.fromPretrained(out);
    expect(byDefault.dtype).toBe('bfloat16');
    expect(byDefault.stateDict().get('model.norm.weight')!.dtype).toBe('bfloat16');
    byDefault.dispose();
    const reloaded = await CausalLM.fromPretrained(out, { dtype: 'float32' });
    const { logits } = await reloaded.eval().forward(inputIds);
    expect(maxAbsDiff(logits, theirs)).toBeLessThan(1e-4);
    // The routing bias stays fp32 in the file even in a bf16 save (as transformers keeps it).
    const weights = await loadShardedSafetensors(out);
    const bias = Object.keys(weights).find((n) => n.endsWith('e_score_correction_bias'));
    if (bias) expect(weights[bias].dtype).toBe('float32');
    if (name === 'qwen2-tiny') expect('lm_head.weight' in weights).toBe(false); // tied: stored once
  });
});

describe('bad folders', () => {
  async function singleFileCopy(label: string): Promise<{ dir: string; weights: Record<string, Tensor> }> {
    const model = await CausalLM.fromPretrained(path.join(root, 'moonlight-tiny'));
    const dir = path.join(root, label);
    await model.savePretrained(dir);
    return { dir, weights: await loadSafetensors(path.join(dir, 'model.safetensors')) };
  }

  test('unknown tensors are reported and ignored', async () => {
    const { dir, weights } = await singleFileCopy('with-extra');
    const extra = 'model.layers.0.self_attn.rotary_emb.inv_freq';
    await saveSafetensors(path.join(dir, 'model.safetensors'), { ...weights, [extra]: weights['model.norm.weight'] });
    const reported: string[][] = [];
    const model = await CausalLM.fromPretrained(dir, { onUnexpectedTensors: (names) => reported.push(names) });
    expect(reported).toEqual([[extra]]);
    expect(pretrainedInfoOf(model)?.unexpectedTensors).toEqual([extra]);
  });

  test('missing tensors are a CheckpointError that lists them', async () => {
    const { dir, weights } = await singleFileCopy('with-missing');
    const { 'model.norm.weight': _dropped, ...rest } = weights;
    await saveSafetensors(path.join(dir, 'model.safetensors'), rest);
    await expect(CausalLM.fromPretrained(dir)).rejects.toThrow(CheckpointError);
    await expect(CausalLM.fromPretrained(dir)).rejects.toThrow(/lacks 1 tensor\(s\) the model needs: model\.norm\.weight/);
  });

  test('config.json missing, invalid, or without a required key is a ConfigError naming it', async () => {
    const { dir } = await singleFileCopy('bad-config');
    const configPath = path.join(dir, 'config.json');
    const config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
    delete config.hidden_size;
    fs.writeFileSync(configPath, JSON.stringify(config));
    await expect(CausalLM.fromPretrained(dir)).rejects.toThrow(ConfigError);
    await expect(CausalLM.fromPretrained(dir)).rejects.toThrow(/hidden_size/);
    fs.writeFileSync(configPath, '{"model_type": ');
    await expect(CausalLM.fromPretrained(dir)).rejects.toThrow(/config\.json: not valid JSON/);
    fs.rmSync(configPath);
    await expect(CausalLM.fromPretrained(dir)).rejects.toThrow(/config\.json: missing/);
    await expect(CausalLM.fromPretrained(path.join(root, 'nope'))).rejects.toThrow(/not a folder/);
  });
});

test('moonlight inspect on a model folder adds the config summary and parameter counts', () => {
  const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
  const run = spawnSync(process.execPath, [cli, 'inspect', path.join(root, 'moonlight-tiny'), '--json'], { encoding: 'utf8' });
  expect(run.status).toBe(0);
  const report = JSON.parse(run.stdout);
  expect(report.kind).toBe('sharded');
  expect(report.config.model_type).toBe('deepseek_v3');
  // Parameters counted from config.json equal the stored elements minus the routers' bias buffers.
  const biasElements = report.tensors
    .filter((t: { name: string }) => t.name.endsWith('e_score_correction_bias'))
    .reduce((sum: number, t: { shape: number[] }) => sum + t.shape[0], 0);
  expect(biasElements).toBe(16);
  expect(report.parameters.total).toBe(report.totals.elements - biasElements);
  expect(report.parameters.activatedExcludingEmbeddings).toBeLessThan(report.parameters.totalExcludingEmbeddings);
});
