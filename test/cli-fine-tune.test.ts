/**
 * `moonlight train --from DIR … --lora_rank 8 --lora_alpha 32 --target_modules all-linear --optimizer muon` on the
 * bundled chat sample (scripts/data/chat-sample.jsonl) for 50 steps on a tiny Qwen2 written by transformers, with a
 * tokenizer.json trained by Python tokenizers and a ChatML template in its tokenizer_config.json: the assistant-token
 * loss falls, the optimizer state printed counts the adapters only, the saved model folder loads in transformers with
 * our logits, PEFT loads the adapter folder, and `moonlight merge` rebuilds the same merged model.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CausalLM, loadSafetensors, Tensor } from '../src';
import { qwen2Tiny } from './helpers/model_configs';
import { runPythonFile } from './helpers/python';
import { CHATML_TEMPLATE } from './helpers/chat_templates';

const { chatSamplePath, chatSampleRecords } = require('../scripts/make-chat-sample.js') as {
  chatSamplePath: string;
  chatSampleRecords: () => Array<Record<string, unknown>>;
};
const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
const REFERENCE = path.join(__dirname, '..', 'scripts', 'oracle', 'transformers_reference.py');
const LORA_ORACLE = path.join(__dirname, 'helpers', 'lora_oracle.py');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-sft-'));
const base = path.join(root, 'base', 'model');
const run = path.join(root, 'run');
const inputIds = [[5, 60, 61, 70, 80, 90, 100, 110, 120, 130, 140, 150]];
// Qwen2 tiny without its (tied) embedding: per layer q/k/v (+ biases), o, gate/up/down and two norms; the final norm.
const qwenParametersWithoutEmbedding = 2 * (48 * 48 + 48 + 2 * (48 * 24 + 24) + 48 * 48 + 3 * 48 * 96 + 2 * 48) + 48;
const maxAbsDiff = (a: Tensor, b: Tensor): number => a.sub(b).abs().max().item();

function moonlight(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 240_000 });
}

let stdout = '';

beforeAll(() => {
  runPythonFile(REFERENCE, {
    cases: [{ config: { ...qwen2Tiny, max_position_embeddings: 512 }, seed: 5, out_dir: path.join(root, 'base'), input_ids: [[1, 2, 3]], labels: null, attention_mask: null }],
  }, 300_000);
  const texts = chatSampleRecords().map((record) => JSON.stringify(record));
  runPythonFile(LORA_ORACLE, { jobs: [{ kind: 'tokenizer', dir: base, texts, vocab_size: 384, chat_template: CHATML_TEMPLATE }] }, 120_000);
  const result = moonlight('train', '--from', base, '--dataset', chatSamplePath, '--lora_rank', '8', '--lora_alpha', '32',
    '--target_modules', 'all-linear', '--optimizer', 'muon', '--lr', '0.01', '--steps', '50', '--batch_size', '4',
    '--max_length', '256', '--seed', '1', '--out', run);
  stdout = result.stdout;
  if (result.status !== 0) throw new Error(`moonlight train --from failed: ${result.stderr}\n${result.stdout}`);
}, 600_000);

test('50 LoRA + Muon steps lower the assistant-token loss; the state printed counts the adapters only', () => {
  const lines = fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { lmLoss: number });
  expect(lines).toHaveLength(50);
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
  const first = mean(lines.slice(0, 5).map((l) => l.lmLoss));
  const last = mean(lines.slice(-5).map((l) => l.lmLoss));
  console.log(`assistant-token loss: first 5 steps ${first.toFixed(4)}, last 5 steps ${last.toFixed(4)}`);
  expect(last).toBeLessThan(0.7 * first);

  const trainable = Number(/trainable parameters: ([\d,]+)/.exec(stdout)![1].replace(/,/g, ''));
  const state = Number(/optimizer state: ([\d,]+) bytes/.exec(stdout)![1].replace(/,/g, ''));
  // r = 8 on q/k/v/o/gate/up/down of 2 layers (hidden 48, kv 2 × 12, intermediate 96): A [8, in] + B [out, 8].
  const perLayer = [[48, 48], [48, 24], [48, 24], [48, 48], [48, 96], [48, 96], [96, 48]].reduce((sum, [i, o]) => sum + 8 * (i + o), 0);
  expect(trainable).toBe(2 * perLayer);
  expect(state).toBe(4 * trainable);  // one fp32 Muon momentum per adapter matrix, none for the frozen base
  expect(stdout).toMatch(/data: 48 conversations, \d+ tokens \(\d+ learned\), 0 truncated to 256/);
  const runJson = JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8'));
  expect(runJson).toMatchObject({ status: 'completed', kind: 'sft', optimizerStateBytes: state, lora: { rank: 8, alpha: 32 } });
});

test('the saved folder is complete and transformers loads it with our logits; PEFT loads the adapter; moonlight merge gives the same model', async () => {
  const modelDir = path.join(run, 'model');
  for (const file of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) {
    expect(fs.existsSync(path.join(modelDir, file))).toBe(true);
  }
  const merged = path.join(root, 'merged');
  const mergeResult = moonlight('merge', '--base', base, '--adapter', path.join(run, 'adapter'), '--out', merged);
  expect(mergeResult.stderr).toBe('');
  expect(mergeResult.stdout).toMatch(/merged 14 adapted layers/);

  // Full fine-tuning from the same folder (--train_type full): every weight trains; the folder is complete too.
  const fullRun = path.join(root, 'full');
  const full = moonlight('train', '--from', base, '--dataset', chatSamplePath, '--train_type', 'full', '--freeze_parameters', 'embed_tokens',
    '--optimizer', 'muon', '--steps', '3', '--batch_size', '2', '--out', fullRun);
  expect(full.status).toBe(0);
  expect(full.stdout).toMatch(/fine-tuning .* \(full\), 3 steps/);
  expect(full.stdout).toMatch(/\(1 tensors frozen\)/);
  const fullState = Number(/optimizer state: ([\d,]+) bytes/.exec(full.stdout)![1].replace(/,/g, ''));
  const fullTrainable = Number(/trainable parameters: ([\d,]+)/.exec(full.stdout)![1].replace(/,/g, ''));
  expect(fullTrainable).toBe(qwenParametersWithoutEmbedding);
  expect(fullState).toBeGreaterThan(4 * fullTrainable);  // norms and biases take AdamW's two buffers
  expect(fs.existsSync(path.join(fullRun, 'model', 'tokenizer.json'))).toBe(true);
  // No --lr: fine-tuning keeps its own default (1e-3), not pre-training's higher one.
  expect(JSON.parse(fs.readFileSync(path.join(fullRun, 'run.json'), 'utf8')).lr).toBe(1e-3);

  const results = runPythonFile<{ results: Array<Record<string, unknown>> }>(LORA_ORACLE, {
    jobs: [
      { kind: 'logits', model_dir: path.join(fullRun, 'model'), input_ids: inputIds, out: path.join(root, 'full.safetensors') },
      { kind: 'logits', model_dir: modelDir, input_ids: inputIds, out: path.join(root, 'hf.safetensors') },
      { kind: 'peft_logits', base_dir: base, adapter_dir: path.join(run, 'adapter'), input_ids: inputIds, out: path.join(root, 'peft.safetensors') },
    ],
  }, 300_000).results;
  expect(results[0]).toEqual({ missing: [], unexpected: [] });
  expect(results[1]).toEqual({ missing: [], unexpected: [] });
  results.shift();
  const ours = await CausalLM.fromPretrained(modelDir);
  const oursMerged = await CausalLM.fromPretrained(merged);
  try {
    const { logits } = await ours.eval().forward(inputIds);
    const { logits: viaMerge } = await oursMerged.eval().forward(inputIds);
    expect(maxAbsDiff(logits, (await loadSafetensors(path.join(root, 'hf.safetensors'))).logits)).toBeLessThan(1e-4);
    expect(maxAbsDiff(logits, (await loadSafetensors(path.join(root, 'peft.safetensors'))).logits)).toBeLessThan(1e-4);
    expect(maxAbsDiff(logits, viaMerge)).toBeLessThan(1e-5);
  } finally {
    ours.dispose();
    oursMerged.dispose();
  }
}, 300_000);
