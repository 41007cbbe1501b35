/**
 * KV-cache generation against transformers: tiny DeepseekV3 (q-LoRA off and on), Qwen2 and Llama models
 * written by transformers' save_pretrained; greedy tokens and per-step logits must equal transformers'
 * `generate` and its full forward; the MLA cache holds exactly (kv_lora_rank + qk_rope_head_dim) × layers ×
 * 4 bytes per position; sampling, stop tokens, streaming and option errors.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ArgumentError, CausalLM } from '../src';
import type { TokenEncoder } from '../src/data/tokenizer_types';
import { generateText } from '../src/infer';
import { deepseekExtrasTiny, llamaTiny, moonlightTiny, qwen2Tiny } from './helpers/model_configs';
import { runPythonFile } from './helpers/python';

jest.setTimeout(240_000);

const MAX_NEW_TOKENS = 32;
const PROMPT = [11, 42, 7, 99, 3, 57, 21];
const BATCH = [[5, 17, 33], [8, 61, 2, 44, 90, 12]];

interface OracleRun {
  tokens: number[][];
  logits: number[][][];
}
interface OracleResult {
  single: { tokens: number[]; logits: number[][]; full_logits: number[][] };
  batch: OracleRun;
}

const cases: Array<[string, Record<string, unknown>]> = [
  ['deepseek_v3 (Moonlight, no q-LoRA)', moonlightTiny],
  ['deepseek_v3 (q-LoRA, yarn)', deepseekExtrasTiny],
  ['qwen2', qwen2Tiny],
  ['llama', llamaTiny],
];

let root: string;
let oracle: OracleResult[];

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'moonlight-generate-'));
  oracle = runPythonFile<{ results: OracleResult[] }>(path.join(__dirname, 'helpers', 'generate_oracle.py'), {
    cases: cases.map(([, config], i) => ({
      config, seed: 100 + i, out_dir: path.join(root, `m${i}`), prompt: PROMPT, batch: BATCH, max_new_tokens: MAX_NEW_TOKENS,
    })),
  }, 200_000).results;
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function leftPadded(rows: number[][]): { ids: number[][]; mask: number[][] } {
  const width = Math.max(...rows.map((r) => r.length));
  return {
    ids: rows.map((r) => [...Array(width - r.length).fill(0), ...r]),
    mask: rows.map((r) => [...Array(width - r.length).fill(0), ...Array(r.length).fill(1)]),
  };
}

describe.each(cases.map(([name], i) => [name, i] as const))('%s', (_name, index) => {
  let model: CausalLM;
  beforeAll(async () => {
    model = (await CausalLM.fromPretrained(path.join(root, `m${index}`))).eval();
  });
  afterAll(() => model.dispose());

  test('greedy 32 tokens equal transformers generate; cached logits equal its logits and full forward within 1e-4', async () => {
    const expected = oracle[index].single;
    const result = await model.generate([PROMPT], { maxNewTokens: MAX_NEW_TOKENS, returnLogits: true });
    expect(result.tokens[0]).toEqual(expected.tokens);
    expect(result.finishReasons).toEqual(['length']);
    const logits = result.stepLogits!;
    expect(logits.shape).toEqual([MAX_NEW_TOKENS, 1, expected.logits[0].length]);
    const ours = logits.toNumbers();
    const vocab = expected.logits[0].length;
    for (let step = 0; step < MAX_NEW_TOKENS; step++) {
      const row = ours.slice(step * vocab, (step + 1) * vocab);
      expect(maxAbsDiff(row, expected.logits[step])).toBeLessThan(1e-4);
      expect(maxAbsDiff(row, expected.full_logits[step])).toBeLessThan(1e-4);
    }
  });

  test('a left-padded batch of two prompts equals transformers generate', async () => {
    const expected = oracle[index].batch;
    const { ids, mask } = leftPadded(BATCH);
    const result = await model.generate(ids, { maxNewTokens: MAX_NEW_TOKENS, attentionMask: mask, returnLogits: true });
    expect(result.tokens).toEqual(expected.tokens);
    const ours = result.stepLogits!.toNumbers();
    const vocab = expected.logits[0][0].length;
    for (let step = 0; step < MAX_NEW_TOKENS; step++) {
      for (let b = 0; b < 2; b++) {
        const offset = (step * 2 + b) * vocab;
        expect(maxAbsDiff(ours.slice(offset, offset + vocab), expected.logits[b][step])).toBeLessThan(1e-4);
      }
    }
  });

  test('stop tokens end a sequence at the stop token', async () => {
    const expected = oracle[index].single.tokens;
    const stop = expected[5];
    const result = await model.generate([PROMPT], { maxNewTokens: MAX_NEW_TOKENS, stopTokenIds: [stop] });
    expect(result.tokens[0]).toEqual(expected.slice(0, expected.indexOf(stop) + 1));
    expect(result.finishReasons).toEqual(['stop']);
  });
});

describe('cache, sampling, streaming, options (Moonlight tiny)', () => {
  let model: CausalLM;
  beforeAll(async () => {
    model = (await CausalLM.fromPretrained(path.join(root, 'm0'))).eval();
  });
  afterAll(() => model.dispose());

  test('the MLA cache allocates exactly (kv_lora_rank + qk_rope_head_dim) × layers × 4 bytes per position', async () => {
    const result = await model.generate([PROMPT, PROMPT], { maxNewTokens: 5 });
    const { kv_lora_rank: rank, qk_rope_head_dim: rope, num_hidden_layers: layers } = moonlightTiny as Record<string, number>;
    expect(result.cacheCapacity).toBe(PROMPT.length + 5);
    expect(result.cacheBytes).toBe((rank + rope) * layers * 4 * 2 * result.cacheCapacity);
  });

  test('sampling with a seed is reproducible; top-k 1 equals greedy', async () => {
    const options = { maxNewTokens: 16, temperature: 1.3, topP: 0.9, topK: 50, seed: 7 };
    const first = await model.generate([PROMPT], options);
    const again = await model.generate([PROMPT], options);
    expect(again.tokens).toEqual(first.tokens);
    const topOne = await model.generate([PROMPT], { maxNewTokens: MAX_NEW_TOKENS, temperature: 0.8, topK: 1, seed: 3 });
    expect(topOne.tokens[0]).toEqual(oracle[0].single.tokens);
  });

  test('streaming yields the same tokens as the non-streaming call', async () => {
    const { ids, mask } = leftPadded(BATCH);
    const streamed: number[][] = [[], []];
    for await (const { sequence, token } of model.generateStream(ids, { maxNewTokens: 12, attentionMask: mask })) {
      streamed[sequence].push(token);
    }
    expect(streamed).toEqual(oracle[0].batch.tokens.map((row) => row.slice(0, 12)));
  });

  test('generateText left-pads, decodes, and stop strings cut the text', async () => {
    // One letter per token id (the tiny vocabulary is larger than the byte tokenizer's).
    const tokenizer: TokenEncoder = {
      name: 'letters', vocabSize: 512, eosTokenId: 2, fingerprint: 'letters',
      encode: (text) => [...text].map((c) => c.charCodeAt(0) % 512),
      decode: (ids) => Array.from(ids, (id) => String.fromCharCode(97 + (id % 26))).join(''),
    };
    const result = await generateText(model, tokenizer, ['ab', 'hello'], { maxNewTokens: 6, stopTokenIds: [] });
    expect(result.texts).toHaveLength(2);
    expect(result.tokens.every((row) => row.length === 6)).toBe(true);
    const text = result.texts[1];
    const stop = text.slice(2, 4);
    const cut = await generateText(model, tokenizer, ['ab', 'hello'], { maxNewTokens: 6, stopTokenIds: [], stopStrings: [stop] });
    expect(cut.texts[1]).toBe(text.slice(0, text.indexOf(stop) + stop.length));
    expect(cut.finishReasons[1]).toBe('stop');
    const streamed: string[] = [];
    for await (const piece of model.generateStream([[104, 101, 108, 108, 111]], { maxNewTokens: 6, tokenizer })) streamed.push(piece.text ?? '');
    expect(streamed.join('')).toBe(text);
  });

  test('a stop string also ends its sequence in the native loop, not only in the returned text', async () => {
    const tokenizer: TokenEncoder = {
      name: 'letters', vocabSize: 512, eosTokenId: 2, fingerprint: 'letters',
      encode: (text) => [...text].map((c) => c.charCodeAt(0) % 512),
      decode: (ids) => Array.from(ids, (id) => String.fromCharCode(97 + (id % 26))).join(''),
    };
    const long = 400;
    const full = await model.generate([PROMPT], { maxNewTokens: long, tokenizer });
    const text = full.texts?.[0] ?? '';
    const stop = text.slice(3, 5);
    const cut = await model.generate([PROMPT], { maxNewTokens: long, tokenizer, stopStrings: [stop], returnLogits: true });
    expect(cut.texts?.[0]).toBe(text.slice(0, text.indexOf(stop) + stop.length));
    expect(cut.finishReasons).toEqual(['stop']);
    // Without the in-loop stop every one of the 400 steps runs; JS asks the loop to stop a few steps late at most.
    const stepsRun = cut.stepLogits?.shape[0] ?? long;
    cut.stepLogits?.dispose();
    expect(stepsRun).toBeLessThan(long / 2);
  });

  test('a stop string spanning several merged tokens ends the sequence at the token that completes it', async () => {
    // Tokens of one to three characters, multi-byte and outside the BMP among them.
    const pieces = ['a', 'bc', 'dé', 'f€g', '😀', 'h ', 'ij', 'k'];
    const merged: TokenEncoder = {
      name: 'merged', vocabSize: 512, eosTokenId: 2, fingerprint: 'merged', encode: () => [],
      decode: (ids) => Array.from(ids, (id) => pieces[id % pieces.length]).join(''),
    };
    const long = 200;
    const tokens = (await model.generate([PROMPT], { maxNewTokens: long })).tokens[0];
    const text = merged.decode(tokens);
    // Seven characters starting at the last character of the 20th token.
    const start = merged.decode(tokens.slice(0, 20)).length - 1;
    const stop = text.slice(start, start + 7);
    const end = text.indexOf(stop) + stop.length;
    const kept = tokens.findIndex((_, i) => merged.decode(tokens.slice(0, i + 1)).length >= end) + 1;
    expect(kept).toBeGreaterThan(20);

    const cut = await model.generate([PROMPT], { maxNewTokens: long, tokenizer: merged, stopStrings: [stop], returnLogits: true });
    expect(cut.tokens[0]).toEqual(tokens.slice(0, kept));
    expect(cut.texts?.[0]).toBe(merged.decode(tokens.slice(0, kept)));
    expect(cut.finishReasons).toEqual(['stop']);
    const stepsRun = cut.stepLogits?.shape[0] ?? long;
    cut.stepLogits?.dispose();
    expect(stepsRun).toBeLessThan(kept + 10);

    const streamed: string[] = [];
    for await (const piece of model.generateStream([PROMPT], { maxNewTokens: long, tokenizer: merged, stopStrings: [stop] })) {
      streamed.push(piece.text ?? '');
    }
    expect(streamed).toHaveLength(kept);
    expect(streamed.join('')).toBe(merged.decode(tokens.slice(0, kept)));
  });

  test('an AbortSignal cancels the native loop; leaving a stream early ends it', async () => {
    const aborted = new AbortController();
    aborted.abort();
    const cancelled = await model.generate([PROMPT, PROMPT], { maxNewTokens: 400, signal: aborted.signal });
    expect(cancelled.finishReasons).toEqual(['cancelled', 'cancelled']);
    expect(cancelled.tokens.map((row) => row.length)).toEqual([1, 1]);
    expect(cancelled.tokens[0][0]).toBe(oracle[0].single.tokens[0]);

    const controller = new AbortController();
    let received = 0;
    for await (const piece of model.generateStream([PROMPT], { maxNewTokens: 400, signal: controller.signal })) {
      expect(piece.sequence).toBe(0);
      received += 1;
      if (received === 2) controller.abort();
    }
    expect(received).toBeGreaterThanOrEqual(2);
    expect(received).toBeLessThan(200);

    let taken = 0;
    for await (const piece of model.generateStream([PROMPT], { maxNewTokens: 400 })) {
      expect(piece.token).toBe(oracle[0].single.tokens[taken]);
      if (++taken === 3) break;
    }
    // The cancelled loop has released the model: the next call runs at once and is unaffected.
    const after = await model.generate([PROMPT], { maxNewTokens: 4 });
    expect(after.tokens[0]).toEqual(oracle[0].single.tokens.slice(0, 4));
    await expect(model.generate([PROMPT], { signal: {} as AbortSignal })).rejects.toThrow(/signal/);
  });

  test('a small model decodes on one thread by default; threads overrides it with the same tokens', async () => {
    const byDefault = await model.generate([PROMPT], { maxNewTokens: 8 });
    expect(byDefault.threads).toBe(1);
    const two = await model.generate([PROMPT], { maxNewTokens: 8, threads: 2 });
    expect(two.threads).toBe(2);
    expect(two.tokens[0]).toEqual(oracle[0].single.tokens.slice(0, 8));
    await expect(model.generate([PROMPT], { threads: -1 })).rejects.toThrow(/threads/);
  });

  test('bad options are ArgumentErrors naming the option', async () => {
    await expect(model.generate([PROMPT], { maxNewTokens: 0 })).rejects.toThrow(/maxNewTokens/);
    await expect(model.generate([PROMPT], { temperature: -1 })).rejects.toThrow(ArgumentError);
    await expect(model.generate([PROMPT], { topP: 1.5 })).rejects.toThrow(/topP/);
    await expect(model.generate([PROMPT], { topK: 1.5 })).rejects.toThrow(/topK/);
    await expect(model.generate([PROMPT], { stopStrings: ['x'] })).rejects.toThrow(/tokenizer/);
    await expect(model.generate([[1, 2], [3]])).rejects.toThrow(ArgumentError);
    await expect(model.generate([[100000]])).rejects.toThrow(/vocab/);
  });
});
