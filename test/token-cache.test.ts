/**
 * The token cache: its bytes equal an independent computation (Python reads the sources itself, encodes
 * UTF-8 bytes, joins with EOS, and compares with numpy's view of the file); dtype by vocabulary; reuse
 * without tokenising; invalidation; crash safety (a SIGKILLed build is never trusted); gather vs numpy.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ArgumentError, ConfigError, DisposedError } from '../src/errors';
import { prepareTokenCache, TokenCache, tokenDTypeFor, type PreparedTokenCache } from '../src/data/token_cache';
import { byteTokenizer } from './helpers/byte_tokenizer';
import { runPython } from './helpers/python';

let root: string;
let corpus: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'moonlight-token-cache-'));
  corpus = path.join(root, 'corpus');
  fs.mkdirSync(path.join(corpus, 'data'), { recursive: true });
  fs.writeFileSync(path.join(corpus, 'a.txt'), 'The whale 🐋\nis white.\n');
  fs.writeFileSync(path.join(corpus, 'b.jsonl'), ['{"text": "naïve café"}', '', '{"text": "second — line"}'].join('\n'));
  runPython(
    `import json, sys
import pyarrow as pa, pyarrow.parquet as pq
path = json.load(sys.stdin)
pq.write_table(pa.table({'text': ['row %d: %s' % (i, 'ü' * i) for i in range(25)]}), path, row_group_size=7, compression='zstd')
print('null')`,
    path.join(corpus, 'data', 'train-00000-of-00001.parquet'),
  );
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function cacheDir(name: string): string {
  return path.join(root, 'caches', name);
}

// Python's own reading of the corpus folder (sorted relative paths; text = one document, JSONL = one per
// non-blank line, parquet via pyarrow), encoded as UTF-8 bytes + offset and joined with EOS, compared with
// the cache file as numpy reads it.
const PYTHON_CACHE_ORACLE = `
import json, os, sys
import numpy as np, pyarrow.parquet as pq
spec = json.load(sys.stdin)
docs = []
files = []
for folder, dirs, names in os.walk(spec['corpus']):
    for name in names:
        files.append(os.path.relpath(os.path.join(folder, name), spec['corpus']))
for rel in sorted(files):
    full = os.path.join(spec['corpus'], rel)
    if rel.endswith('.txt'):
        docs.append(open(full, encoding='utf-8', newline='').read())
    elif rel.endswith('.jsonl'):
        docs += [json.loads(line)['text'] for line in open(full, encoding='utf-8') if line.strip()]
    elif rel.endswith('.parquet'):
        docs += pq.read_table(full).column('text').to_pylist()
offset = spec['offset']
expected = []
for doc in docs:
    expected += [b + offset for b in doc.encode('utf-8')] + [offset + 256]
actual = np.fromfile(spec['tokens'], dtype=spec['dtype'])
print(json.dumps({'equal': actual.tolist() == expected, 'numTokens': len(expected), 'numDocuments': len(docs), 'fileTokens': int(actual.size)}))
`;

interface OracleResult {
  equal: boolean;
  numTokens: number;
  numDocuments: number;
  fileTokens: number;
}

function checkAgainstPython(prepared: PreparedTokenCache, offset: number, numpyDtype: string): void {
  const result = runPython<OracleResult>(PYTHON_CACHE_ORACLE, { corpus, tokens: prepared.tokensPath, offset, dtype: numpyDtype });
  expect(result.fileTokens).toBe(result.numTokens);
  expect(result.equal).toBe(true);
  expect(prepared.sidecar.numTokens).toBe(result.numTokens);
  expect(prepared.sidecar.numDocuments).toBe(result.numDocuments);
}

describe('building', () => {
  test('uint16 cache (byte vocabulary): contents equal Python\'s own encoding of the sources; sidecar describes it', async () => {
    const tokenizer = byteTokenizer();
    const progress: Array<[number, number, number, number]> = [];
    const prepared = await prepareTokenCache(corpus, {
      tokenizer,
      cacheDir: cacheDir('u16'),
      onProgress: (...args) => progress.push(args),
    });
    expect(prepared.reused).toBe(false);
    expect(prepared.sidecar.dtype).toBe('uint16');
    checkAgainstPython(prepared, 0, '<u2');
    expect(prepared.sidecar.numDocuments).toBe(1 + 2 + 25);
    expect(fs.statSync(prepared.tokensPath).size).toBe(prepared.sidecar.numTokens * 2);

    const sidecar = JSON.parse(fs.readFileSync(prepared.sidecarPath, 'utf8'));
    expect(sidecar).toEqual(prepared.sidecar);
    expect(path.basename(prepared.tokensPath)).toBe(`${sidecar.key}.tokens`);
    expect(sidecar.key).toMatch(/^[0-9a-f]{64}$/);
    expect(sidecar.tokenizer).toEqual({ name: 'test-bytes+0', fingerprint: tokenizer.fingerprint, vocabSize: 257, eosTokenId: 256 });
    expect(sidecar.textField).toBe('text');
    expect(sidecar.formatVersion).toBe(1);
    expect(Number.isNaN(Date.parse(sidecar.createdAt))).toBe(false);
    const a = path.join(corpus, 'a.txt');
    expect(sidecar.sources[0]).toEqual({ path: a, sizeBytes: fs.statSync(a).size, mtimeMs: fs.statSync(a).mtimeMs });
    expect(sidecar.sources).toHaveLength(3);

    // Progress: one call per document plus a final one, monotone, ending at all bytes and all tokens.
    expect(progress).toHaveLength(28 + 1);
    const totalBytes = sidecar.sources.reduce((sum: number, source: { sizeBytes: number }) => sum + source.sizeBytes, 0);
    expect(progress[progress.length - 1]).toEqual([28, sidecar.numTokens, totalBytes, totalBytes]);
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i][1]).toBeGreaterThan(progress[i - 1][1] - 1);
      expect(progress[i][2]).toBeGreaterThanOrEqual(progress[i - 1][2]);
    }
    // No temporaries left behind.
    expect(fs.readdirSync(cacheDir('u16')).sort()).toEqual([`${sidecar.key}.json`, `${sidecar.key}.tokens`].sort());
  });

  test('a vocabulary above 65536 ids gives a uint32 cache, equal to Python\'s encoding', async () => {
    const prepared = await prepareTokenCache(corpus, { tokenizer: byteTokenizer(70_000), cacheDir: cacheDir('u32') });
    expect(prepared.sidecar.dtype).toBe('uint32');
    checkAgainstPython(prepared, 70_000, '<u4');
    expect(tokenDTypeFor(65536)).toBe('uint16');
    expect(tokenDTypeFor(65537)).toBe('uint32');
  });

  test('an id outside the vocabulary is an ArgumentError and leaves no cache', async () => {
    const tokenizer = { ...byteTokenizer(), encode: () => [300] };
    const dir = cacheDir('bad-id');
    await expect(prepareTokenCache(corpus, { tokenizer, cacheDir: dir })).rejects.toThrow(ArgumentError);
    await expect(prepareTokenCache(corpus, { tokenizer, cacheDir: dir })).rejects.toThrow(/produced id 300, outside its vocabulary \[0, 257\)/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test('a source error propagates typed and leaves no cache', async () => {
    const bad = path.join(root, 'bad.jsonl');
    fs.writeFileSync(bad, '{"text": "ok"}\n{"body": 1}\n');
    const dir = cacheDir('bad-source');
    await expect(prepareTokenCache(bad, { tokenizer: byteTokenizer(), cacheDir: dir })).rejects.toThrow(ConfigError);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('reuse and invalidation', () => {
  test('a second prepare reuses the cache without calling encode', async () => {
    const dir = cacheDir('reuse');
    const first = await prepareTokenCache(corpus, { tokenizer: byteTokenizer(), cacheDir: dir });
    const tokenizer = byteTokenizer();
    const onProgress = jest.fn();
    const second = await prepareTokenCache(corpus, { tokenizer, cacheDir: dir, onProgress });
    expect(second.reused).toBe(true);
    expect(tokenizer.encodeCalls).toBe(0);
    expect(onProgress).not.toHaveBeenCalled();
    expect(second.tokensPath).toBe(first.tokensPath);
    expect(second.sidecar).toEqual(first.sidecar);
    // Another tokenizer or text field is another cache.
    const other = await prepareTokenCache(corpus, { tokenizer: byteTokenizer(1), cacheDir: dir });
    expect(other.tokensPath).not.toBe(first.tokensPath);
  });

  test('an edited source file invalidates the cache', async () => {
    const source = path.join(root, 'edited.txt');
    fs.writeFileSync(source, 'version one');
    const dir = cacheDir('edit');
    const before = await prepareTokenCache(source, { tokenizer: byteTokenizer(), cacheDir: dir });
    fs.writeFileSync(source, 'version two!');
    fs.utimesSync(source, new Date(), new Date(Date.now() + 5000));
    const tokenizer = byteTokenizer();
    const after = await prepareTokenCache(source, { tokenizer, cacheDir: dir });
    expect(after.reused).toBe(false);
    expect(tokenizer.encodeCalls).toBe(1);
    expect(after.tokensPath).not.toBe(before.tokensPath);
    expect(after.sidecar.numTokens).toBe('version two!'.length + 1);
  });

  test.each([
    ['a truncated token file', (prepared: PreparedTokenCache) => fs.truncateSync(prepared.tokensPath, 10)],
    ['a missing token file', (prepared: PreparedTokenCache) => fs.rmSync(prepared.tokensPath)],
    ['a missing sidecar', (prepared: PreparedTokenCache) => fs.rmSync(prepared.sidecarPath)],
    ['an unparsable sidecar', (prepared: PreparedTokenCache) => fs.writeFileSync(prepared.sidecarPath, '{"formatVersion": 1, ')],
    [
      'a sidecar of another format version',
      (prepared: PreparedTokenCache) =>
        fs.writeFileSync(prepared.sidecarPath, JSON.stringify({ ...prepared.sidecar, formatVersion: 0 })),
    ],
    [
      'a sidecar whose size disagrees',
      (prepared: PreparedTokenCache) =>
        fs.writeFileSync(prepared.sidecarPath, JSON.stringify({ ...prepared.sidecar, numTokens: prepared.sidecar.numTokens + 1 })),
    ],
  ])('%s is not trusted: the cache is rebuilt', async (_, damage) => {
    const dir = cacheDir(`damage-${Math.random().toString(36).slice(2)}`);
    const built = await prepareTokenCache(corpus, { tokenizer: byteTokenizer(), cacheDir: dir });
    const original = fs.readFileSync(built.tokensPath);
    damage(built);
    const tokenizer = byteTokenizer();
    const rebuilt = await prepareTokenCache(corpus, { tokenizer, cacheDir: dir });
    expect(rebuilt.reused).toBe(false);
    expect(tokenizer.encodeCalls).toBeGreaterThan(0);
    expect(fs.readFileSync(rebuilt.tokensPath).equals(original)).toBe(true);
  });
});

test('a build killed mid-way (SIGKILL) leaves no trusted cache; the next run rebuilds and removes the leftovers', async () => {
  // ~24 MB of JSONL: several seconds of byte tokenising, so the kill lands mid-build.
  const big = path.join(root, 'big.jsonl');
  const line = JSON.stringify({ text: 'Call me Ishmael. '.repeat(6000) }) + '\n';
  fs.writeFileSync(big, line.repeat(240));
  const dir = cacheDir('crash');
  fs.mkdirSync(dir, { recursive: true });
  const child = spawn(process.execPath, [path.join(__dirname, 'helpers', 'token-cache-crash-child.js'), big, dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const said = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk) => resolve(String(chunk)));
    child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
  });
  expect(said).toBe('tokenising\n');
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));

  const leftovers = fs.readdirSync(dir);
  expect(leftovers.some((name) => name.endsWith('.json'))).toBe(false); // no sidecar: nothing vouches for it
  expect(leftovers.some((name) => name.includes('.tokens.tmp-'))).toBe(true); // the partial file the crash left
  expect(leftovers.some((name) => name.endsWith('.tokens'))).toBe(false);

  const tokenizer = byteTokenizer();
  const rebuilt = await prepareTokenCache(big, { tokenizer, cacheDir: dir });
  expect(rebuilt.reused).toBe(false);
  expect(tokenizer.encodeCalls).toBe(240);
  expect(rebuilt.sidecar.numTokens).toBe(240 * (17 * 6000 + 1));
  expect(fs.readdirSync(dir).sort()).toEqual([path.basename(rebuilt.sidecarPath), path.basename(rebuilt.tokensPath)].sort());
}, 60_000);

describe('gather', () => {
  let prepared: PreparedTokenCache;
  let prepared32: PreparedTokenCache;

  beforeAll(async () => {
    prepared = await prepareTokenCache(corpus, { tokenizer: byteTokenizer(), cacheDir: cacheDir('gather') });
    prepared32 = await prepareTokenCache(corpus, { tokenizer: byteTokenizer(70_000), cacheDir: cacheDir('gather32') });
  });

  // numpy's reading of the same windows.
  function numpyRows(tokensPath: string, dtype: string, starts: number[], seqLen: number): number[][] {
    return runPython<number[][]>(
      `import json, sys
import numpy as np
s = json.load(sys.stdin)
a = np.fromfile(s['path'], dtype=s['dtype'])
print(json.dumps([a[i:i + s['seqLen']].astype(np.int64).tolist() for i in s['starts']]))`,
      { path: tokensPath, dtype, starts, seqLen },
    );
  }

  test.each([
    ['uint16', '<u2'],
    ['uint32', '<u4'],
  ])('%s: rows are exactly the tokens at those offsets, as int64 [B, seqLen] (async and sync)', async (dtype, numpyDtype) => {
    const source = dtype === 'uint16' ? prepared : prepared32;
    const cache = TokenCache.open(source.tokensPath, source.sidecar.dtype, source.sidecar.numTokens);
    const seqLen = 16;
    const last = cache.numTokens - seqLen;
    const starts = [0, 1, 7, 100, last - 1, last, 33];
    const expected = numpyRows(source.tokensPath, numpyDtype, starts, seqLen);
    const batch = await cache.gather(Int32Array.from(starts), seqLen);
    expect(batch.dtype).toBe('int64');
    expect(batch.shape).toEqual([starts.length, seqLen]);
    expect(batch.tolist()).toEqual(expected);
    const sync = cache.gatherSync(starts, seqLen);
    expect(sync.tolist()).toEqual(expected);
    const fromFloat = await cache.gather(Float64Array.from(starts), seqLen);
    expect(fromFloat.tolist()).toEqual(expected);
    for (const tensor of [batch, sync, fromFloat]) tensor.dispose();
    cache.dispose();
  });

  test('windows outside the cache, bad starts and bad seqLen are ArgumentErrors; use after dispose is a DisposedError', async () => {
    const cache = TokenCache.open(prepared.tokensPath, 'uint16');
    const n = cache.numTokens;
    await expect(cache.gather([n - 3], 4)).rejects.toThrow(ArgumentError);
    await expect(cache.gather([0, n - 3], 4)).rejects.toThrow(
      `sequence start ${n - 3} (row 1) with seqLen 4 is outside the token cache ${prepared.tokensPath} of ${n} tokens`,
    );
    expect(() => cache.gatherSync([-1], 4)).toThrow(ArgumentError);
    expect(() => cache.gatherSync([1.5], 4)).toThrow(/starts\[0\] must be a safe integer/);
    expect(() => cache.gatherSync([0], 0)).toThrow(/seqLen must be at least 1/);
    expect(() => cache.gatherSync(new Uint8Array([1]) as unknown as number[], 4)).toThrow(ArgumentError);
    // A pending gather keeps the mapping alive through dispose().
    const pending = cache.gather([0], 4);
    cache.dispose();
    const batch = await pending;
    expect(batch.shape).toEqual([1, 4]);
    batch.dispose();
    expect(() => cache.gatherSync([0], 4)).toThrow(DisposedError);
    cache.dispose(); // twice is fine
  });

  test('open refuses a file of a partial token, or with another token count than expected', () => {
    const odd = path.join(root, 'odd.tokens');
    fs.writeFileSync(odd, Buffer.alloc(7));
    expect(() => TokenCache.open(odd, 'uint16')).toThrow(ConfigError);
    expect(() => TokenCache.open(odd, 'uint16')).toThrow(/not a whole number of 2-byte tokens/);
    expect(() => TokenCache.open(prepared.tokensPath, 'uint16', 5)).toThrow(/sidecar says 5/);
    expect(() => TokenCache.open(path.join(root, 'missing.tokens'), 'uint16')).toThrow(ConfigError);
  });
});
