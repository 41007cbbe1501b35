/**
 * `moonlight train` as users run it (compiled dist/): toy_train.py's flags with both optimizers on the
 * embedded corpus, and one clear error line (exit code ≠ 0, nothing half-written) for each kind of bad input.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runPython } from './helpers/python';

jest.setTimeout(300_000);

const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-train-'));
const cacheDir = path.join(scratch, 'cache');
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function moonlight(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 280_000, env: { ...process.env, MOONLIGHT_CACHE_DIR: cacheDir } });
}

function trainLosses(runDir: string): number[] {
  return fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n')
    .map((line) => JSON.parse(line)).filter((r) => r.type === 'train').map((r) => r.loss);
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe.each(['muon', 'adamw'])('toy_train parity: --model qwen --optimizer %s', (optimizer) => {
  test('trains on the default corpus; losses fall; metrics, run.json, plots and a checkpoint are written', () => {
    const out = path.join(scratch, `qwen-${optimizer}`);
    const run = moonlight('train', '--model', 'qwen', '--optimizer', optimizer, '--hidden_size', '128', '--num_layers', '2',
      '--lr', '3e-3', '--wd', '0.1', '--steps', '40', '--batch_size', '8', '--seq_len', '64', '--warmup', '4',
      '--eval_every', '20', '--out', out);
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/model qwen2 /);
    expect(run.stdout).toContain(`checkpoint: ${path.join(out, 'checkpoints', 'step-00000040')}`);
    expect(run.stdout).toMatch(/plot: .*\.svg/);
    expect(run.stdout).toMatch(/report: .*report\.html/);
    // The closing sample: the default prompt on the embedded corpus, continued by the trained model.
    const sample = /^sample: (".*")$/m.exec(run.stdout);
    expect(sample).not.toBeNull();
    const sampleText = JSON.parse(sample![1]) as string;
    expect(sampleText.startsWith('Call me Ishmael.')).toBe(true);
    expect(sampleText.length).toBeGreaterThan('Call me Ishmael.'.length + 20);
    const losses = trainLosses(out);
    expect(losses).toHaveLength(40);
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 1);
    const runJson = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'));
    expect(runJson.optimizer).toMatchObject({ type: optimizer, lr: 3e-3, weightDecay: 0.1 });
    expect(runJson.model.config).toMatchObject({ model_type: 'qwen2', hidden_size: 128, intermediate_size: 4864, num_attention_heads: 16, tie_word_embeddings: true });
    // Not a TTY: plain progress lines.
    expect(run.stderr).toMatch(/step 40\/40 \(100%\) loss/);
  });
});

test('--help documents every flag with its default', () => {
  const run = moonlight('train', '--help');
  expect(run.status).toBe(0);
  for (const flag of ['--model', '--optimizer', '--dataset', '--hidden_size', '--lr', '--wd', '--steps', '--batch_size', '--seq_len',
    '--grad_accum', '--warmup', '--schedule', '--precision', '--seed', '--out', '--resume', '--eval_every', '--save_every']) {
    expect(run.stdout).toContain(flag);
  }
  // Per mode: pre-training's measured default, and fine-tuning's own (a higher pre-training lr must not raise it).
  expect(run.stdout.replace(/\s+/g, ' ')).toMatch(/--lr Peak learning rate \[default: pre-training 0\.02 with Muon, 0\.005 with AdamW; 0\.001 with --from\]/);
  expect(run.stdout).toMatch(/--optimizer[\s\S]*?\[default: "muon"\]/);
});

describe('bad input: one error line with the fix, exit code ≠ 0, no run folder', () => {
  const small = (name: string, text: string) => {
    const file = path.join(scratch, name);
    fs.writeFileSync(file, text);
    return file;
  };

  function expectOneLineError(args: string[], pattern: RegExp) {
    const out = path.join(scratch, `bad-${Math.random().toString(36).slice(2)}`);
    const run = moonlight('train', ...args, '--out', out, '--steps', '2');
    expect(run.status).not.toBe(0);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^moonlight: /);
    expect(lines[0]).toMatch(pattern);
    expect(fs.existsSync(out)).toBe(false);
  }

  test('a missing dataset', () => expectOneLineError(['--dataset', path.join(scratch, 'nope.txt')], /nope\.txt/));
  test('an empty dataset', () => expectOneLineError(['--dataset', small('empty.txt', '')], /empty\.txt/));
  test('a dataset shorter than one sequence', () =>
    expectOneLineError(['--dataset', small('short.txt', 'Call me Ishmael.'), '--seq_len', '256'], /256/));
  test('an unknown model name', () => expectOneLineError(['--model', 'gpt5'], /unknown model 'gpt5'.*moonlight-tiny/));
  test('a parquet file without the text column', () => {
    const file = path.join(scratch, 'content.parquet');
    runPython(`
import sys, json, pyarrow as pa, pyarrow.parquet as pq
pq.write_table(pa.table({"content": ["some text", "more text"]}), json.load(sys.stdin)["file"])
print("{}")`, { file });
    expectOneLineError(['--dataset', file], /content\.parquet.*text.*content/);
  });
  test('conflicting flags', () => {
    const config = small('config.json', JSON.stringify({ model_type: 'qwen2', vocab_size: 320, hidden_size: 32, intermediate_size: 64,
      num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 2, max_position_embeddings: 64 }));
    expectOneLineError(['--model', config, '--hidden_size', '64'], /--hidden_size size a model preset/);
    expectOneLineError(['--eval_every', '10', '--val_fraction', '0'], /--eval_every needs a validation split/);
    // A flag that does not apply to the mode is an error naming it, never silently ignored.
    expectOneLineError(['--from', scratch, '--sample_tokens', '5'], /--sample_tokens applies to pre-training only/);
    expectOneLineError(['--from', scratch, '--seq_len', '64', '--cache_dir', scratch], /--seq_len, --cache_dir apply to pre-training only/);
    expectOneLineError(['--lora_rank', '8'], /--lora_rank applies to fine-tuning only: add --from/);
  });
  test('resuming from an incompatible checkpoint', () => {
    const out = path.join(scratch, 'resume-me');
    const first = moonlight('train', '--hidden_size', '32', '--num_layers', '2', '--num_heads', '2', '--steps', '2', '--batch_size', '2',
      '--seq_len', '32', '--eval_every', '0', '--no-plot', '--out', out);
    expect(first.status).toBe(0);
    const before = fs.readFileSync(path.join(out, 'run.json'), 'utf8');
    const run = moonlight('train', '--hidden_size', '32', '--num_layers', '2', '--num_heads', '2', '--steps', '4', '--batch_size', '2',
      '--seq_len', '16', '--eval_every', '0', '--resume', out);
    expect(run.status).not.toBe(0);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/cannot resume from .*seq_len 32 in the checkpoint, 16 now/);
    expect(fs.readFileSync(path.join(out, 'run.json'), 'utf8')).toBe(before);
  });
});
