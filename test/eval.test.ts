/**
 * Evaluation against transformers (fp32, eager): a tiny Qwen2 written by save_pretrained in
 * test/helpers/eval_oracle.py, which also scores the very token ids we score (so tokenizer differences cannot matter):
 * continuation log-likelihoods one unpadded sequence at a time, and its own loss over the packed windows. Accuracy
 * and acc_norm are derived here from the reference log-likelihoods; bits per byte by hand from the loss.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CausalLM } from '../src';
import { byteTokenizer } from '../src/data/tokenizer';
import { TokenDataset } from '../src/data/token_dataset';
import { ConfigError } from '../src/errors';
import {
  evaluatePerplexity,
  fewShotContext,
  multipleChoiceRequests,
  readMultipleChoiceTask,
  scoreMultipleChoice,
  type ContinuationRequest,
} from '../src/eval';
import { qwen2Tiny } from './helpers/model_configs';
import { runPythonFile } from './helpers/python';

const ORACLE = path.join(__dirname, 'helpers', 'eval_oracle.py');
const CLI = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
const SEQ_LEN = 16;
/** Room for the two-shot prompts (byte tokens: ~160). */
const CONFIG = { ...qwen2Tiny, max_position_embeddings: 512 };

const MMLU_ITEMS = [
  { question: 'What color is the sky on a clear day?', choices: ['blue', 'green', 'a very dark red', 'plaid'], answer: 0 },
  { question: 'How many legs does a spider have?', choices: ['six', 'eight', 'ten'], answer: 1 },
  { question: '2 + 2 = ?', choices: ['3', '4', 'five', '22'], answer: 1 },
  { question: 'Which is a fruit?', choices: ['carrot', 'potato', 'apple'], answer: 2 },
  { question: 'Opposite of hot?', choices: ['cold', 'warm', 'tepid'], answer: 0 },
  { question: 'Café or thé?', choices: ['café ☕', 'thé 🍵'], answer: 1 },
];
const HELLASWAG_ITEMS = [
  { ctx: 'A man pours water into a glass. He', endings: ['drinks it.', 'eats the glass slowly.', 'flies away.'], label: '0' },
  { ctx: 'The cat sat on the', endings: ['mat.', 'moon, singing loudly.'], label: 0 },
];
const TEXT = 'Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse, I thought I would sail about.';

let dir: string;
let modelDir: string;
let mmluFile: string;
let hellaswagFile: string;
let model: CausalLM;
const tokenizer = byteTokenizer();
let requests: { zeroShot: ContinuationRequest[]; twoShot: ContinuationRequest[]; hellaswag: ContinuationRequest[] };
let windows: number[][];
let reference: { log_likelihoods: number[]; window_loss: number };

const jsonl = (items: unknown[]): string => items.map((item) => JSON.stringify(item)).join('\n') + '\n';

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moonlight-eval-'));
  modelDir = path.join(dir, 'model');
  mmluFile = path.join(dir, 'mmlu.jsonl');
  hellaswagFile = path.join(dir, 'hellaswag.jsonl');
  fs.writeFileSync(mmluFile, jsonl(MMLU_ITEMS));
  fs.writeFileSync(hellaswagFile, jsonl(HELLASWAG_ITEMS));
  const mmlu = readMultipleChoiceTask(mmluFile);
  requests = {
    zeroShot: multipleChoiceRequests(mmlu, tokenizer, 0, 1234),
    twoShot: multipleChoiceRequests(mmlu, tokenizer, 2, 7),
    hellaswag: multipleChoiceRequests(readMultipleChoiceTask(hellaswagFile), tokenizer, 0, 1234),
  };
  // The packed windows TokenDataset.fromTokens makes: consecutive, non-overlapping, the tail dropped.
  const ids = [...Buffer.from(TEXT, 'utf8')];
  windows = [];
  for (let start = 0; start + SEQ_LEN <= ids.length; start += SEQ_LEN) windows.push(ids.slice(start, start + SEQ_LEN));
  const all = [...requests.zeroShot, ...requests.twoShot, ...requests.hellaswag];
  reference = runPythonFile(ORACLE, {
    config: CONFIG, seed: 11, model_dir: modelDir, windows,
    continuations: all.map((request) => ({ context_ids: request.contextIds, continuation_ids: request.continuationIds })),
  }, 120_000);
  model = await CausalLM.fromPretrained(modelDir);
}, 120_000);

afterAll(() => {
  model?.dispose();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** acc / acc_norm from reference log-likelihoods, written out here (lm-eval: argmax; argmax of ll / len(choice)). */
function referenceAccuracy(items: Array<{ choices: string[]; answer: number }>, lls: number[]): { acc: number; accNorm: number } {
  let offset = 0;
  let acc = 0;
  let accNorm = 0;
  for (const item of items) {
    const scores = lls.slice(offset, offset + item.choices.length);
    offset += item.choices.length;
    const norm = scores.map((score, c) => score / Array.from(item.choices[c]).length);
    if (scores.indexOf(Math.max(...scores)) === item.answer) acc++;
    if (norm.indexOf(Math.max(...norm)) === item.answer) accNorm++;
  }
  return { acc: acc / items.length, accNorm: accNorm / items.length };
}

describe('multiple-choice scoring vs transformers', () => {
  test.each([
    ['zero-shot MMLU style, batch 5 (mixed lengths, right padding)', 'zeroShot', 0, 7, 5],
    ['two-shot MMLU style, batch 3', 'twoShot', 2, 7, 3],
  ] as const)('%s', async (_name, key, fewShot, seed, batchSize) => {
    const result = await scoreMultipleChoice(model, tokenizer, mmluFile, { fewShot, seed: key === 'zeroShot' ? 1234 : seed, batchSize, perItem: true });
    const offset = key === 'zeroShot' ? 0 : requests.zeroShot.length;
    const expected = reference.log_likelihoods.slice(offset, offset + requests[key].length);
    const ours = result.perItem!.flatMap((item) => item.logLikelihoods);
    expect(ours).toHaveLength(expected.length);
    ours.forEach((value, i) => expect(Math.abs(value - expected[i])).toBeLessThan(1e-4));
    const { acc, accNorm } = referenceAccuracy(MMLU_ITEMS, expected);
    expect(result.acc).toBeCloseTo(acc, 12);
    expect(result.accNorm).toBeCloseTo(accNorm, 12);
    const n = MMLU_ITEMS.length;
    expect(result.accStderr).toBeCloseTo(Math.sqrt((acc * (1 - acc)) / (n - 1)), 12);
    expect(result.items).toBe(n);
  });

  test('HellaSwag-style lines {ctx, endings, label} (label as string or number)', async () => {
    const result = await scoreMultipleChoice(model, tokenizer, hellaswagFile, { batchSize: 2, perItem: true });
    const offset = requests.zeroShot.length + requests.twoShot.length;
    const expected = reference.log_likelihoods.slice(offset);
    result.perItem!.flatMap((item) => item.logLikelihoods).forEach((value, i) => expect(Math.abs(value - expected[i])).toBeLessThan(1e-4));
    const { acc, accNorm } = referenceAccuracy(HELLASWAG_ITEMS.map((item) => ({ choices: item.endings, answer: Number(item.label) })), expected);
    expect([result.acc, result.accNorm]).toEqual([acc, accNorm]);
  });

  test('prompts: MMLU context, " choice" continuation split on token boundaries; few-shot deterministic by seed', () => {
    const items = readMultipleChoiceTask(mmluFile);
    expect(items[0].context).toBe('Question: What color is the sky on a clear day?\nAnswer:');
    expect(tokenizer.decode(requests.zeroShot[0].contextIds)).toBe(items[0].context);
    expect(tokenizer.decode(requests.zeroShot[0].continuationIds)).toBe(' blue');
    const prompt = fewShotContext(items, 3, 2, 7);
    expect(fewShotContext(items, 3, 2, 7)).toBe(prompt);
    const parts = prompt.split('\n\n');
    expect(parts).toHaveLength(3);
    expect(parts[2]).toBe(items[3].context);
    const solved = new Set(items.map((item) => `${item.context} ${item.choices[item.answer]}`));
    expect(solved.has(parts[0]) && solved.has(parts[1]) && parts[0] !== parts[1]).toBe(true);
    expect(parts.slice(0, 2)).not.toContain(`${items[3].context} ${items[3].choices[items[3].answer]}`);
    const seeds = new Set(Array.from({ length: 8 }, (_, seed) => fewShotContext(items, 3, 2, seed)));
    expect(seeds.size).toBeGreaterThan(1);
  });

  test('bad task lines are ConfigErrors naming file:line', () => {
    const cases: Array<[string, RegExp]> = [
      ['{"question": "q", "choices": ["a", "b"], "answer": 2}', /"answer" must be an integer index/],
      ['{"question": "q", "choices": ["a"], "answer": 0}', /"choices" must be an array of at least 2/],
      ['not json', /not valid JSON/],
      ['{"prompt": "x"}', /expected \{"question", "choices", "answer"\}/],
      ['{"ctx": "c", "endings": ["a", "b"], "label": "x"}', /"label" must be an integer index/],
    ];
    cases.forEach(([line, message], index) => {
      const file = path.join(dir, `bad-${index}.jsonl`);
      fs.writeFileSync(file, `${JSON.stringify(MMLU_ITEMS[0])}\n\n${line}\n`);
      expect(() => readMultipleChoiceTask(file)).toThrow(ConfigError);
      expect(() => readMultipleChoiceTask(file)).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: .*${message.source}`));
    });
  });
});

describe('perplexity vs transformers', () => {
  test("loss equals transformers' loss on the same windows; bits per byte from the loss by hand", async () => {
    const dataset = TokenDataset.fromTokens([...Buffer.from(TEXT, 'utf8')], { seqLen: SEQ_LEN, vocabSize: tokenizer.vocabSize });
    const result = await evaluatePerplexity(model, dataset, { tokenizer, seqLen: SEQ_LEN, batchSize: 3 });
    expect(Math.abs(result.loss - reference.window_loss)).toBeLessThan(1e-4);
    expect(result.tokens).toBe(windows.length * (SEQ_LEN - 1));
    // ASCII text, byte tokens, no EOS: every scored token is one byte, so bits/byte = loss / ln 2.
    expect(result.bytes).toBe(result.tokens);
    expect(Math.abs(result.bitsPerByte - reference.window_loss / Math.LN2)).toBeLessThan(1e-4);
    expect(Math.abs(Math.log(result.perplexity) - reference.window_loss)).toBeLessThan(1e-4);
    const limited = await evaluatePerplexity(model, dataset, { tokenizer, seqLen: SEQ_LEN, batchSize: 2, maxBatches: 1 });
    expect(limited.tokens).toBe(2 * (SEQ_LEN - 1));
    dataset.dispose();
  });
});

describe('moonlight eval (CLI)', () => {
  test('--task prints JSON results equal to the reference accuracy; --dataset prints loss and bits per byte', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [CLI, 'eval', '--model', modelDir, '--tokenizer', 'byte', '--json', ...args], {
      encoding: 'utf8', timeout: 50_000, env: { ...process.env, MOONLIGHT_CACHE_DIR: path.join(dir, 'cache') },
    });
    const task = run(['--task', mmluFile, '--batch_size', '4']);
    expect(task.stderr).toMatch(/choices \d+\/\d+/);
    expect(task.status).toBe(0);
    const taskResult = JSON.parse(task.stdout.trim().split('\n').pop()!);
    const expected = referenceAccuracy(MMLU_ITEMS, reference.log_likelihoods.slice(0, requests.zeroShot.length));
    expect([taskResult.acc, taskResult.accNorm, taskResult.items]).toEqual([expected.acc, expected.accNorm, MMLU_ITEMS.length]);

    const textFile = path.join(dir, 'text.txt');
    fs.writeFileSync(textFile, TEXT);
    const data = run(['--dataset', textFile, '--seq_len', String(SEQ_LEN), '--batch_size', '4']);
    expect(data.status).toBe(0);
    const dataResult = JSON.parse(data.stdout.trim().split('\n').pop()!);
    expect(dataResult.tokens).toBeGreaterThan(0);
    expect(Math.abs(dataResult.bitsPerByte * Math.LN2 * dataResult.bytes - dataResult.loss * dataResult.tokens)).toBeLessThan(1e-6);

    const bad = run(['--task', mmluFile, '--dataset', textFile]);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringMatching(/ArgumentError: give exactly one of --dataset and --task/)]);
    const seqLenWithTask = run(['--task', mmluFile, '--seq_len', '64']);
    expect(seqLenWithTask.status).toBe(1);
    expect(seqLenWithTask.stderr).toMatch(/ArgumentError: --seq_len applies to --dataset only/);
  });

  test('--seq_len defaults to min(512, max_position_embeddings); a longer one is refused naming the limit', () => {
    // The same weights with a 256-position context (RoPE has no learned positions, so the model is valid).
    const shortDir = path.join(dir, 'model-256');
    fs.cpSync(modelDir, shortDir, { recursive: true });
    const configFile = path.join(shortDir, 'config.json');
    fs.writeFileSync(configFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(configFile, 'utf8')), max_position_embeddings: 256 }));
    const textFile = path.join(dir, 'long-text.txt');
    fs.writeFileSync(textFile, TEXT.repeat(Math.ceil(4096 / TEXT.length)));
    const run = (args: string[]) => spawnSync(process.execPath, [CLI, 'eval', '--model', shortDir, '--tokenizer', 'byte', '--json', '--dataset', textFile, ...args], {
      encoding: 'utf8', timeout: 50_000, env: { ...process.env, MOONLIGHT_CACHE_DIR: path.join(dir, 'cache') },
    });
    const byDefault = run([]);
    expect(byDefault.stderr).not.toMatch(/Error/);
    expect(byDefault.status).toBe(0);
    const explicit = run(['--seq_len', '256']);
    expect(explicit.status).toBe(0);
    const [defaultResult, explicitResult] = [byDefault, explicit].map((r) => JSON.parse(r.stdout.trim().split('\n').pop()!));
    expect(defaultResult.tokens % 255).toBe(0); // windows of 256 tokens score 255 each
    expect(defaultResult).toEqual(explicitResult);
    const tooLong = run(['--seq_len', '300']);
    expect(tooLong.status).toBe(1);
    expect(tooLong.stderr).toMatch(/ArgumentError: --seq_len 300 is longer than the model's max_position_embeddings \(256\)/);
  });
});
