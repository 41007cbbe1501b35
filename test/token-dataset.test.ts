/**
 * Packed datasets: packing and split arithmetic, batches equal the token stream at the right offsets, the
 * too-short error, deterministic shuffling (checked against a Python port of the documented algorithm), the
 * sampler's exact resume and drop-last epoch wrap, the default corpus and dataset names.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ArgumentError, ConfigError } from '../src/errors';
import { BatchSampler } from '../src/data/batch_sampler';
import { defaultCorpus, KNOWN_DATASET_NAMES, resolveDataset } from '../src/data/default_corpus';
import { seededPermutation, Xoshiro128StarStar } from '../src/data/shuffle';
import { TokenDataset } from '../src/data/token_dataset';
import { byteTokenizer } from './helpers/byte_tokenizer';
import { runPython } from './helpers/python';

let root: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'moonlight-token-dataset-'));
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

const range = (start: number, end: number): number[] => Array.from({ length: end - start }, (_, i) => start + i);

describe('packing and splits', () => {
  test('non-overlapping seqLen windows, the tail dropped, the last ceil(fraction·n) sequences for validation', async () => {
    const tokens = range(0, 103);
    const dataset = TokenDataset.fromTokens(tokens, { seqLen: 10, vocabSize: 200, validationFraction: 0.15 });
    expect(dataset.numTokens).toBe(103);
    expect(dataset.numSequences()).toBe(10);
    expect(dataset.numSequences('validation')).toBe(2); // ceil(1.5)
    expect(dataset.numSequences('train')).toBe(8);
    const train = await dataset.batch('train', [0, 7, 3]);
    expect(train.dtype).toBe('int64');
    expect(train.tolist()).toEqual([range(0, 10), range(70, 80), range(30, 40)]);
    const validation = await dataset.batch('validation', Uint32Array.from([1, 0]));
    expect(validation.tolist()).toEqual([range(90, 100), range(80, 90)]);
    await expect(dataset.batch('train', [8])).rejects.toThrow("sequence index 8 (position 0) is outside the train split's 8 sequences");
    await expect(dataset.batch('validation', [0.5])).rejects.toThrow(ArgumentError);
    expect(TokenDataset.fromTokens(tokens, { seqLen: 10, vocabSize: 200, validationFraction: 0.01 }).numSequences('validation')).toBe(1);
    expect(TokenDataset.fromTokens(tokens, { seqLen: 10, vocabSize: 200 }).numSequences('validation')).toBe(0);
    expect([...dataset.evalBatches(1)].map((batch) => Array.from(batch))).toEqual([[0], [1]]);
  });

  test('prepare: batches from the mapped cache are the document bytes joined with EOS, cut into seqLen windows', async () => {
    const file = path.join(root, 'two-docs.jsonl');
    fs.writeFileSync(file, '{"text": "Hello, whale!"}\n{"text": "ünïcode"}\n');
    // Hand-derived stream: UTF-8 bytes of each document, then EOS (256).
    const stream = [...Buffer.from('Hello, whale!'), 256, ...Buffer.from('ünïcode'), 256];
    const tokenizer = byteTokenizer();
    const dataset = await TokenDataset.prepare(file, { tokenizer, seqLen: 4, validationFraction: 0.2, cacheDir: path.join(root, 'cache') });
    expect(dataset.numTokens).toBe(stream.length);
    expect(dataset.vocabSize).toBe(257);
    expect(dataset.seqLen).toBe(4);
    expect(dataset.tokenizerFingerprint).toBe(tokenizer.fingerprint);
    expect(dataset.cachePath).toMatch(/[0-9a-f]{64}\.tokens$/);
    expect(dataset.cacheReused).toBe(false);
    const total = Math.floor(stream.length / 4);
    const numValidation = Math.ceil(0.2 * total);
    expect(dataset.numSequences('validation')).toBe(numValidation);
    expect(dataset.numSequences('train')).toBe(total - numValidation);
    const all = await dataset.batch('train', range(0, total - numValidation));
    const held = await dataset.batch('validation', range(0, numValidation));
    expect([...all.toNumbers(), ...held.toNumbers()]).toEqual(stream.slice(0, total * 4));
    dataset.dispose();
    // Reopened: reused cache, same batches.
    const again = await TokenDataset.prepare(file, { tokenizer, seqLen: 4, validationFraction: 0.2, cacheDir: path.join(root, 'cache') });
    expect(again.cacheReused).toBe(true);
    expect((await again.batch('train', [1])).toNumbers()).toEqual(stream.slice(4, 8));
    again.dispose();
  });

  test('fewer tokens than one sequence: the error says how many there are, how many are needed, and the fix', async () => {
    const file = path.join(root, 'short.txt');
    fs.writeFileSync(file, 'tiny');
    const error = await TokenDataset.prepare(file, { tokenizer: byteTokenizer(), seqLen: 16, cacheDir: path.join(root, 'cache') }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      `dataset ${file} has 5 tokens, but one sequence of seq_len 16 needs 16; use a smaller --seq_len or more data`,
    );
  });

  test('a validation fraction that leaves no training sequence, and invalid layouts, are refused', () => {
    expect(() => TokenDataset.fromTokens(range(0, 20), { seqLen: 10, vocabSize: 20, validationFraction: 0.9 })).toThrow(
      /validation fraction 0.9 of the in-memory token dataset's 2 sequences of 10 tokens leaves no training sequence/,
    );
    expect(() => TokenDataset.fromTokens(range(0, 20), { seqLen: 10, vocabSize: 20, validationFraction: 1 })).toThrow(ArgumentError);
    expect(() => TokenDataset.fromTokens(range(0, 20), { seqLen: 0, vocabSize: 20 })).toThrow(/seqLen must be a positive integer/);
    expect(() => TokenDataset.fromTokens([1, 99], { seqLen: 1, vocabSize: 20 })).toThrow(/tokens\[1\] = 99/);
  });
});

// A Python port of shuffle.ts's documented algorithm (xoshiro128** seeded by SplitMix32 over a hash of
// seed and epoch; Fisher–Yates with rejection), written from the reference C code's definitions.
const PYTHON_SHUFFLE = `
import json, sys
M = 0xFFFFFFFF
def rotl(x, k): return ((x << k) | (x >> (32 - k))) & M
def mix32(x):
    x = ((x ^ (x >> 16)) * 0x85ebca6b) & M
    x = ((x ^ (x >> 13)) * 0xc2b2ae35) & M
    return x ^ (x >> 16)
class Xoshiro:
    def __init__(self, s): self.s = list(s)
    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 9) & M
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 11)
        return result
    def below(self, bound):
        limit = 2**32 - (2**32 % bound)
        r = self.next()
        while r >= limit: r = self.next()
        return r % bound
def from_seed(seed, epoch):
    h = 0x6d6f6f6e
    for w in [seed % 2**32, seed // 2**32, epoch % 2**32, epoch // 2**32]:
        h = mix32(((h ^ w) + 0x9e3779b9) & M)
    state = []
    for _ in range(4):
        h = (h + 0x9e3779b9) & M
        state.append(mix32(h))
    return Xoshiro(state)
def permutation(n, seed, epoch):
    order = list(range(n)); r = from_seed(seed, epoch)
    for i in range(n - 1, 0, -1):
        j = r.below(i + 1); order[i], order[j] = order[j], order[i]
    return order
spec = json.load(sys.stdin)
reference = Xoshiro([1, 2, 3, 4])
print(json.dumps({'reference': [reference.next() for _ in range(10)], 'orders': [permutation(*c) for c in spec]}))
`;

describe('deterministic shuffle', () => {
  test('xoshiro128** matches the reference vectors; permutations match an independent Python port', () => {
    const cases: Array<[number, number, number]> = [[10, 0, 0], [10, 0, 1], [1000, 1234, 7], [37, 2 ** 40 + 3, 2 ** 33]];
    const python = runPython<{ reference: number[]; orders: number[][] }>(PYTHON_SHUFFLE, cases);
    const generator = new Xoshiro128StarStar([1, 2, 3, 4]);
    const ours = Array.from({ length: 10 }, () => generator.next());
    expect(ours).toEqual(python.reference);
    expect(ours.slice(0, 4)).toEqual([11520, 0, 5927040, 70819200]); // the published first outputs
    cases.forEach(([n, seed, epoch], i) => expect(Array.from(seededPermutation(n, seed, epoch))).toEqual(python.orders[i]));
  });

  test('same seed and epoch → same order; another epoch or seed → another order; always a permutation', () => {
    const dataset = TokenDataset.fromTokens(new Uint32Array(4096), { seqLen: 4, vocabSize: 2, validationFraction: 0.25 });
    const n = dataset.numSequences('train');
    const a = dataset.order('train', 42, 0);
    expect(a).toEqual(dataset.order('train', 42, 0));
    expect(a).not.toEqual(dataset.order('train', 42, 1));
    expect(a).not.toEqual(dataset.order('train', 43, 0));
    for (const order of [a, dataset.order('train', 42, 1), dataset.order('train', 7, 3)]) {
      expect(order).toHaveLength(n);
      expect(Array.from(order).sort((x, y) => x - y)).toEqual(range(0, n));
    }
    expect(Array.from(a)).not.toEqual(range(0, n));
    expect(Array.from(dataset.order('validation', 42, 5))).toEqual(range(0, dataset.numSequences('validation')));
    expect(() => dataset.order('train', -1, 0)).toThrow(ArgumentError);
  });
});

describe('BatchSampler', () => {
  const dataset = TokenDataset.fromTokens(new Uint32Array(10 * 8 + 3), { seqLen: 8, vocabSize: 2 }); // 10 train sequences

  test('drop_last: an epoch yields floor(n / B) batches of distinct indices, then wraps to the next epoch\'s order', () => {
    const sampler = new BatchSampler(dataset, { batchSize: 3, seed: 5 });
    expect(sampler.batchesPerEpoch).toBe(3);
    const batches = Array.from({ length: 7 }, () => sampler.next());
    expect(batches.map(({ epoch, offset }) => [epoch, offset])).toEqual([[0, 0], [0, 3], [0, 6], [1, 0], [1, 3], [1, 6], [2, 0]]);
    for (const epoch of [0, 1]) {
      const order = dataset.order('train', 5, epoch);
      const seen = batches.filter((batch) => batch.epoch === epoch).flatMap((batch) => Array.from(batch.indices));
      expect(seen).toEqual(Array.from(order.slice(0, 9)));
      expect(new Set(seen).size).toBe(9);
    }
    expect(batches.every((batch) => batch.indices.length === 3)).toBe(true);
  });

  test('state() round trip (through JSON) reproduces exactly the batches that follow', () => {
    const original = new BatchSampler(dataset, { batchSize: 4, seed: 99 });
    for (let i = 0; i < 5; i++) original.next();
    const saved = JSON.parse(JSON.stringify(original.state()));
    expect(saved).toEqual({ seed: 99, epoch: 2, offset: 4 });
    const resumed = new BatchSampler(dataset, { batchSize: 4, state: saved });
    for (let i = 0; i < 12; i++) expect(resumed.next()).toEqual(original.next());
    // The seed comes from the state; a conflicting explicit seed is an error.
    expect(() => new BatchSampler(dataset, { batchSize: 4, seed: 1, state: saved })).toThrow(/seed 1 differs/);
  });

  test('bad batch sizes and states are refused', () => {
    expect(() => new BatchSampler(dataset, { batchSize: 11 })).toThrow(/batch size 11 exceeds the 10 training sequences/);
    expect(() => new BatchSampler(dataset, { batchSize: 0 })).toThrow(ArgumentError);
    expect(() => new BatchSampler(dataset, { batchSize: 2, state: { seed: 0, epoch: 0, offset: 11 } })).toThrow(/another dataset/);
    expect(() => new BatchSampler(dataset, { batchSize: 2, state: { seed: 0, epoch: -1, offset: 0 } })).toThrow(ArgumentError);
  });

  test('evalBatches walks the validation split in order, keeping the last partial batch', () => {
    const withValidation = TokenDataset.fromTokens(new Uint32Array(20 * 2), { seqLen: 2, vocabSize: 2, validationFraction: 0.25 });
    expect([...withValidation.evalBatches(2)].map((batch) => Array.from(batch))).toEqual([[0, 1], [2, 3], [4]]);
  });
});

describe('default corpus and dataset names', () => {
  test('moby-dick: 138 sections in reading order, > 1 MB of text, tokenised into 138 documents', async () => {
    const corpus = defaultCorpus();
    expect(corpus.name).toBe('moby-dick');
    expect(corpus.licence).toMatch(/public domain/);
    const names = corpus.files.map((file) => path.basename(file));
    expect(names).toHaveLength(138);
    expect(names.slice(0, 4)).toEqual(['etymology.txt', 'extracts.txt', 'chapter_1.txt', 'chapter_2.txt']);
    expect(names[names.length - 1]).toBe('epilogue.txt');
    expect(names).toEqual(['etymology.txt', 'extracts.txt', ...range(1, 136).map((i) => `chapter_${i}.txt`), 'epilogue.txt']);
    const bytes = corpus.files.reduce((sum, file) => sum + fs.statSync(file).size, 0);
    expect(bytes).toBeGreaterThan(1_000_000);
    expect(fs.readFileSync(corpus.files[2], 'utf8')).toMatch(/^CHAPTER 1\. Loomings\.\s+Call me Ishmael\./);
    expect(resolveDataset('default')).toEqual(corpus);
    expect(resolveDataset('moby-dick')).toEqual(corpus);

    const dataset = await TokenDataset.prepare(corpus.files, { tokenizer: byteTokenizer(), seqLen: 512, cacheDir: path.join(root, 'moby') });
    expect(dataset.numTokens).toBe(bytes + 138);
    expect(dataset.numSequences()).toBe(Math.floor((bytes + 138) / 512));
    dataset.dispose();
  });

  test('openwebtext-100k: found in a Hugging Face hub cache, else an error saying how to provide it', () => {
    const empty = path.join(root, 'empty-hf-home');
    for (const name of ['openwebtext-100k', 'Elriggs/openwebtext-100k']) {
      expect(() => resolveDataset(name, { HF_HOME: empty })).toThrow(ConfigError);
      expect(() => resolveDataset(name, { HF_HOME: empty })).toThrow(
        'moonlight-torch does not download datasets. Fetch it with ' +
          '`huggingface-cli download --repo-type dataset Elriggs/openwebtext-100k --local-dir DIR`, then pass --dataset DIR',
      );
    }
    const hfHome = path.join(root, 'hf-home');
    const repo = path.join(hfHome, 'hub', 'datasets--Elriggs--openwebtext-100k');
    fs.mkdirSync(path.join(repo, 'snapshots', 'abc123', 'data'), { recursive: true });
    fs.mkdirSync(path.join(repo, 'refs'));
    fs.writeFileSync(path.join(repo, 'refs', 'main'), 'abc123');
    fs.writeFileSync(path.join(repo, 'snapshots', 'abc123', 'data', 'train-00000-of-00001.parquet'), '');
    expect(resolveDataset('openwebtext-100k', { HF_HOME: hfHome }).files).toEqual([path.join(repo, 'snapshots', 'abc123', 'data')]);
  });

  test('a path resolves to itself; an unknown name lists the known ones', () => {
    const file = path.join(root, 'mine.txt');
    fs.writeFileSync(file, 'text');
    expect(resolveDataset(file).files).toEqual([file]);
    expect(() => resolveDataset('tiny-shakespeare')).toThrow(ArgumentError);
    expect(() => resolveDataset('tiny-shakespeare')).toThrow(`neither a known name (${KNOWN_DATASET_NAMES.join(', ')})`);
  });
});
