/**
 * Text sources: documents read from parquet (written by pyarrow, the reference writer Hugging Face uses), JSON
 * Lines and text files, compared with what the writer put in; folder ordering; every error case.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ArgumentError, ConfigError } from '../src/errors';
import { listSourceFiles, readDocuments, type ReadDocumentsOptions } from '../src/data/text_sources';
import { runPython } from './helpers/python';

let root: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'moonlight-datasets-'));
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

async function collect(source: string | string[], options?: ReadDocumentsOptions): Promise<string[]> {
  const documents: string[] = [];
  for await (const document of readDocuments(source, options)) documents.push(document);
  return documents;
}

async function failure(source: string | string[], options?: ReadDocumentsOptions): Promise<Error> {
  try {
    await collect(source, options);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`reading ${String(source)} did not fail`);
}

// Writes `rows` strings (null = missing value) to a parquet file; returns what pyarrow reads back, its row
// group count and its codec, so the test knows the file really has the layout it asks for.
const WRITE_PARQUET = `
import json, sys
import pyarrow as pa, pyarrow.parquet as pq
spec = json.load(sys.stdin)
table = pa.table({'id': pa.array(range(len(spec['rows'])), pa.int64()), spec['column']: pa.array(spec['rows'], pa.large_string() if spec.get('large') else pa.string())})
pq.write_table(table, spec['path'], row_group_size=spec['rowGroupSize'], compression=spec['compression'])
meta = pq.ParquetFile(spec['path']).metadata
back = pq.read_table(spec['path']).column(spec['column']).to_pylist()
print(json.dumps({'rowGroups': meta.num_row_groups, 'codec': meta.row_group(0).column(1).compression, 'values': back}))
`;

interface Written {
  rowGroups: number;
  codec: string;
  values: Array<string | null>;
}

function writeParquet(file: string, column: string, rows: Array<string | null>, rowGroupSize: number, compression: string, large = false): Written {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return runPython<Written>(WRITE_PARQUET, { path: file, column, rows, rowGroupSize, compression, large });
}

const UNICODE_ROWS = [
  'Call me Ishmael.',
  'naïve café — “quotes” and emoji 🐋🐳',
  'line one\nline two\r\nline three',
  '日本語のテキスト、中文文本',
  null,
  '',
  'tab\tseparated \u0000 nul and \u{10FFFF} last plane',
  ...Array.from({ length: 40 }, (_, i) => `row ${i} ` + 'x'.repeat(i * 37)),
];

describe('parquet (pyarrow-written)', () => {
  test.each([
    ['SNAPPY', 'snappy'],
    ['ZSTD', 'zstd'],
  ])('%s, several row groups, a non-"text" column, unicode: documents equal the written rows', async (codec, compression) => {
    const file = path.join(root, `unicode-${compression}.parquet`);
    const written = writeParquet(file, 'content', UNICODE_ROWS, 5, compression, compression === 'zstd');
    expect(written.rowGroups).toBe(Math.ceil(UNICODE_ROWS.length / 5));
    expect(written.codec).toBe(codec);
    const progress: number[] = [];
    const documents = await collect(file, { textField: 'content', onBytes: (bytes) => progress.push(bytes) });
    // Null and empty values are no documents.
    expect(documents).toEqual(written.values.filter((value) => value !== null && value !== ''));
    expect(progress.length).toBeGreaterThanOrEqual(written.rowGroups);
    expect(progress[progress.length - 1]).toBe(fs.statSync(file).size);
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]);
  });

  test('a file without the text column: the error names the file, the column asked for and the columns it has', async () => {
    const file = path.join(root, 'no-text.parquet');
    writeParquet(file, 'body', ['a', 'b'], 1, 'snappy');
    const error = await failure(file);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(file);
    expect(error.message).toContain('"text"');
    expect(error.message).toContain('"id", "body"');
    expect(error.message).toContain('--text_field');
  });

  test('a non-string column is a typed error naming the row', async () => {
    const file = path.join(root, 'numbers.parquet');
    writeParquet(file, 'text', ['a'], 1, 'snappy');
    const error = await failure(file, { textField: 'id' });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/row 0: column "id" is a (bigint|number), expected a string/);
  });

  test('a file that is not parquet is a typed error naming it', async () => {
    const file = path.join(root, 'fake.parquet');
    fs.writeFileSync(file, 'this is not parquet');
    const error = await failure(file);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(file);
  });
});

describe('JSON Lines and text', () => {
  test('JSONL: one document per line from the text field, blank lines skipped, CRLF and unicode kept', async () => {
    const file = path.join(root, 'docs.jsonl');
    const texts = ['first 🐋', 'second\nwith newline', 'третий', 'x'.repeat(3 << 20)]; // the last spans read chunks
    const lines = texts.map((text, i) => JSON.stringify({ id: i, text, other: 'ignored' }));
    fs.writeFileSync(file, `${lines[0]}\r\n\n${lines[1]}\n   \n${lines[2]}\n${lines[3]}`); // no final newline
    expect(await collect(file)).toEqual(texts);
    // Python's json reads the same documents (an independent JSON reader).
    const pythonTexts = runPython<string[]>(
      'import json,sys; p=json.load(sys.stdin); print(json.dumps([json.loads(l)["text"] for l in open(p, encoding="utf-8") if l.strip()]))',
      file,
    );
    expect(await collect(file)).toEqual(pythonTexts);
  });

  test.each([
    ['{"text": "ok"}\n{"body": "no text"}\n', 2, /no "text" field \(fields: "body"\)/],
    ['{"text": "ok"}\n\n{"text": 42}\n', 3, /field "text" is a number, expected a string/],
    ['{"text": "ok"}\n{"text": "unterminated\n', 2, /not valid JSON/],
    ['["text"]\n', 1, /expected a JSON object/],
  ])('bad JSONL line → ConfigError naming file:line (%#)', async (content, line, pattern) => {
    const file = path.join(root, `bad-${line}-${Math.random().toString(36).slice(2)}.jsonl`);
    fs.writeFileSync(file, content);
    const error = await failure(file);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(`${file}:${line}:`);
    expect(error.message).toMatch(pattern);
  });

  test('a text file is one document, byte for byte', async () => {
    const file = path.join(root, 'book.txt');
    const text = 'Chapter 1\r\n\nIt was… 🐋\n';
    fs.writeFileSync(file, text);
    expect(await collect(file)).toEqual([text]);
  });
});

describe('folders', () => {
  test('every supported file, recursively, sorted by relative path; hidden files and dataset cards skipped', async () => {
    const folder = path.join(root, 'hub-layout');
    const shard0 = writeParquet(path.join(folder, 'data', 'train-00000-of-00002.parquet'), 'text', ['p0', 'p1', 'p2'], 2, 'snappy');
    const shard1 = writeParquet(path.join(folder, 'data', 'train-00001-of-00002.parquet'), 'text', ['p3'], 1, 'zstd');
    fs.writeFileSync(path.join(folder, 'README.md'), 'dataset card');
    fs.writeFileSync(path.join(folder, '.gitattributes.txt'), 'hidden');
    fs.mkdirSync(path.join(folder, '.cache'));
    fs.writeFileSync(path.join(folder, '.cache', 'x.txt'), 'hidden folder');
    fs.writeFileSync(path.join(folder, 'b.jsonl'), '{"text":"j0"}\n{"text":"j1"}\n');
    fs.writeFileSync(path.join(folder, 'a.txt'), 'plain a');
    fs.writeFileSync(path.join(folder, 'notes.csv'), 'unsupported');
    fs.mkdirSync(path.join(folder, 'z'));
    fs.writeFileSync(path.join(folder, 'z', 'last.md'), 'markdown last');

    const files = await listSourceFiles(folder);
    expect(files.map((file) => path.relative(folder, file.path))).toEqual([
      'a.txt',
      'b.jsonl',
      path.join('data', 'train-00000-of-00002.parquet'),
      path.join('data', 'train-00001-of-00002.parquet'),
      path.join('z', 'last.md'),
    ]);
    expect(files.map((file) => file.format)).toEqual(['text', 'jsonl', 'parquet', 'parquet', 'text']);
    expect(await collect(folder)).toEqual(['plain a', 'j0', 'j1', ...shard0.values, ...shard1.values, 'markdown last']);
    // A list of paths is read in the order given.
    expect(await collect([path.join(folder, 'z', 'last.md'), path.join(folder, 'a.txt')])).toEqual(['markdown last', 'plain a']);
  });

  test('a folder without supported files lists the supported extensions', async () => {
    const folder = path.join(root, 'nothing-here');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'data.csv'), 'a,b');
    const error = await failure(folder);
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error.message).toContain(folder);
    expect(error.message).toContain('.txt, .md, .jsonl, .json, .parquet');
  });
});

describe('missing and empty', () => {
  test('a missing path names it and what was expected', async () => {
    const missing = path.join(root, 'does-not-exist');
    const error = await failure(missing);
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error.message).toContain(`${missing} does not exist`);
    expect(error.message).toContain('expected a file');
  });

  test('an unsupported file type is refused', async () => {
    const file = path.join(root, 'table.csv');
    fs.writeFileSync(file, 'a,b');
    const error = await failure(file);
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error.message).toContain('unsupported extension');
  });

  test.each([
    ['empty.txt', ''],
    ['blank.jsonl', '\n\n  \n'],
    ['empty-texts.jsonl', '{"text": ""}\n'],
  ])('%s: no non-empty document → ConfigError naming the path', async (name, content) => {
    const file = path.join(root, name);
    fs.writeFileSync(file, content);
    const error = await failure(file);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(file);
    expect(error.message).toContain('no non-empty document');
  });

  test('a parquet file with only null / empty texts is an empty dataset', async () => {
    const file = path.join(root, 'empty-rows.parquet');
    writeParquet(file, 'text', [null, ''], 1, 'snappy');
    const error = await failure(file);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('no non-empty document');
  });
});
