/**
 * `moonlight train --from DIR` runs pre-training's loop: a fine-tuning killed with SIGKILL after a checkpoint and
 * resumed with --resume ends with adapters / weights bit-identical to an uninterrupted run (LoRA + Muon with dropout,
 * whose masks come from libtorch's default generator; full fine-tuning of a MoE), and its losses repeat exactly.
 * `--tokenizer byte` is used (the token count equals the UTF-8 bytes of the chat text rendered by Python's jinja2);
 * flags that do not apply to fine-tuning are errors naming them; fineTune() stops on an AbortSignal with a checkpoint
 * and evaluates on the held-out conversations.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fineTune, loadSafetensors, tensorBytes } from '../src';
import { runPython } from './helpers/python';
import { CHATML_TEMPLATE } from './helpers/chat_templates';
import { chatConversations, SftFixture, writeSftFixture } from './helpers/sft_fixture';

jest.setTimeout(300_000);

const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sft-resume-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const maxLength = 256;
let fixture: SftFixture;

function moonlight(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 280_000 });
}

beforeAll(() => {
  fixture = writeSftFixture(root, { deepseek: true });
}, 300_000);

function trainLosses(runDir: string): number[] {
  return fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line))
    .filter((record) => record.type === 'train').map((record) => record.loss as number);
}

async function differingTensors(a: string, b: string): Promise<string[]> {
  const left = await loadSafetensors(a);
  const right = await loadSafetensors(b);
  expect(Object.keys(right).sort()).toEqual(Object.keys(left).sort());
  return Object.keys(left).filter((name) => Buffer.compare(Buffer.from(tensorBytes(left[name])), Buffer.from(tensorBytes(right[name]))) !== 0);
}

/** Starts a run, SIGKILLs it once it reports a checkpoint; resolves when it is gone. */
async function killAfterCheckpoint(args: string[]): Promise<void> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/checkpoint at step \d+/.test(stderr)) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.once('exit', () => reject(new Error(`the run ended before a checkpoint: ${stderr}`)));
  });
  expect(await exited).toBe('SIGKILL');
}

const runs = [
  {
    name: 'LoRA + Muon, dropout 0.1', base: 'qwen2' as const, saved: path.join('adapter', 'adapter_model.safetensors'),
    flags: ['--lora_rank', '4', '--lora_alpha', '8', '--lora_dropout', '0.1', '--target_modules', 'all-linear', '--lr', '0.01'],
  },
  {
    name: 'full fine-tuning of a MoE (Muon)', base: 'deepseek' as const, saved: path.join('model', 'model.safetensors'),
    flags: ['--train_type', 'full', '--lr', '0.003'],
  },
];

describe.each(runs)('$name', ({ base, saved, flags }) => {
  test('SIGKILL after a checkpoint, then --resume == one uninterrupted run, bit for bit', async () => {
    const work = fs.mkdtempSync(path.join(root, 'run-'));
    const common = ['train', '--from', fixture[base], '--dataset', fixture.chat, '--tokenizer', 'byte', ...flags, '--optimizer', 'muon', '--steps', '30',
      '--batch_size', '3', '--grad_accum', '2', '--max_length', String(maxLength), '--seed', '5', '--save_every', '2', '--keep_last', '2',
      '--eval_every', '10', '--val_fraction', '0.2', '--log_every', '1', '--no-plot'];
    const whole = moonlight(...common, '--out', path.join(work, 'whole'));
    expect(whole.stderr).not.toMatch(/Error/);
    expect(whole.status).toBe(0);

    const interrupted = path.join(work, 'interrupted');
    await killAfterCheckpoint([...common, '--out', interrupted]);
    expect(fs.existsSync(path.join(interrupted, 'model'))).toBe(false); // it did not finish
    const resumed = moonlight(...common, '--resume', interrupted);
    expect(resumed.stderr).not.toMatch(/Error/);
    expect(resumed.status).toBe(0);
    expect(resumed.stdout).toMatch(/finished at step 30\/30/);

    const wholeLosses = trainLosses(path.join(work, 'whole'));
    expect(wholeLosses).toHaveLength(30);
    expect(trainLosses(interrupted)).toEqual(wholeLosses); // exact equality of doubles
    expect(wholeLosses[29]).toBeLessThan(wholeLosses[0]); // it trained
    expect(await differingTensors(path.join(work, 'whole', saved), path.join(interrupted, saved))).toEqual([]);
  });
});

test('--tokenizer byte: the folder has none of its own, the run uses bytes (tokens = UTF-8 bytes of the rendered chat)', () => {
  const withoutTokenizer = moonlight('train', '--from', fixture.qwen2, '--dataset', fixture.chat, '--steps', '1', '--out', path.join(root, 'no-tokenizer'));
  expect(withoutTokenizer.status).not.toBe(0);

  const out = path.join(root, 'byte');
  const result = moonlight('train', '--from', fixture.qwen2, '--dataset', fixture.chat, '--tokenizer', 'byte', '--lora_rank', '2', '--steps', '1',
    '--batch_size', '2', '--max_length', String(maxLength), '--no-plot', '--out', out);
  expect(result.stderr).not.toMatch(/Error/);
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(/tokenizer: byte/);
  // Independent oracle: Python's jinja2 renders each conversation; byte tokens are its UTF-8 bytes (at most max_length).
  const bytes = runPython<number[]>(`
import sys, json, jinja2
job = json.load(sys.stdin)
template = jinja2.Environment().from_string(job["template"])
print(json.dumps([len(template.render(messages=c["messages"], add_generation_prompt=False).encode("utf-8")) for c in job["conversations"]]))
`, { template: CHATML_TEMPLATE, conversations: chatConversations() });
  const tokens = bytes.reduce((sum, n) => sum + Math.min(n, maxLength), 0);
  expect(result.stdout).toMatch(new RegExp(`data: 24 conversations, ${tokens} tokens`));
  expect(JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'))).toMatchObject({ kind: 'sft', tokenizer: 'byte', status: 'completed' });
});

test('flags that do not apply to fine-tuning are errors naming them', () => {
  for (const [flag, value] of [['--text_field', 'body'], ['--max_tokens', '100'], ['--sample_tokens', '5']]) {
    const result = moonlight('train', '--from', fixture.qwen2, '--dataset', fixture.chat, '--tokenizer', 'byte', flag, value, '--out', path.join(root, 'never'));
    expect(result.status).not.toBe(0);
    expect(result.stderr.trim()).toMatch(new RegExp(`^moonlight: .*${flag} applies to pre-training only, not to fine-tuning with --from$`));
  }
  expect(fs.existsSync(path.join(root, 'never'))).toBe(false);
});

test('fineTune(): an AbortSignal stops after the current step with a checkpoint; evaluations go to onEval and metrics.jsonl', async () => {
  const out = path.join(root, 'aborted');
  const abort = new AbortController();
  const steps: number[] = [];
  const evals: number[] = [];
  const result = await fineTune({
    from: fixture.qwen2, dataset: fixture.chat, outDir: out, tokenizer: 'byte', lora: { rank: 2, alpha: 4, dropout: 0 }, maxSteps: 10,
    batchSize: 2, maxLength, evalEvery: 2, validationFraction: 0.25, saveModel: false,
    onStep: (record) => {
      steps.push(record.step);
      if (record.step === 3) abort.abort();
    },
    onEval: (record) => evals.push(record.step),
    signal: abort.signal,
  });
  expect(result).toMatchObject({ status: 'aborted', steps: 3, totalSteps: 10, validationSamples: 6 });
  expect(steps).toEqual([1, 2, 3]);
  expect(evals).toEqual([2]);
  expect(result.checkpoint).toBe(path.join(out, 'checkpoints', 'step-00000003'));
  expect(result.valLoss).toBeGreaterThan(0);
  const lines = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  expect(lines.map((l) => `${l.type}@${l.step}`)).toEqual(['train@1', 'train@2', 'eval@2', 'train@3']);
  expect(JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')).status).toBe('aborted');
});
