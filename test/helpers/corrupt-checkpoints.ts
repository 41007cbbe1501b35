/**
 * Generates the corpus of corrupt safetensors files and checkpoint folders the corruption tests use:
 * each case is written from scratch into a folder, with the error message it must produce.
 * The test regenerates it in a temporary folder on every run; nothing is committed.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface CorruptCase {
  name: string;
  /** What to load: a .safetensors file, or a folder / index for sharded checkpoints. */
  target: string;
  /** The problem the error message must state (after naming the file). */
  problem: RegExp;
}

type HeaderValue = Record<string, unknown>;

function u64(value: number | bigint): Buffer {
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(value));
  return prefix;
}

/** A file from a header given as text plus data bytes, with the header length prefix computed. */
function fileFromText(headerText: string, data: Buffer, lengthOverride?: number | bigint): Buffer {
  const header = Buffer.from(headerText, 'utf8');
  return Buffer.concat([u64(lengthOverride ?? header.length), header, data]);
}

function fileFrom(header: HeaderValue, data: Buffer): Buffer {
  return fileFromText(JSON.stringify(header), data);
}

const twoTensors = {
  a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
  b: { dtype: 'I64', shape: [1], data_offsets: [8, 16] },
};
const sixteenBytes = Buffer.alloc(16, 1);

/** A valid file: the base every mutation starts from. */
export function validFile(): Buffer {
  return fileFrom({ __metadata__: { format: 'pt' }, ...twoTensors }, sixteenBytes);
}

export function writeCorruptCorpus(root: string): CorruptCase[] {
  fs.mkdirSync(root, { recursive: true });
  const cases: CorruptCase[] = [];
  const file = (name: string, bytes: Buffer, problem: RegExp) => {
    const target = path.join(root, `${name}.safetensors`);
    fs.writeFileSync(target, bytes);
    cases.push({ name, target, problem });
  };
  const withTensors = (name: string, tensors: HeaderValue, data: Buffer, problem: RegExp) =>
    file(name, fileFrom(tensors, data), problem);

  file('empty-file', Buffer.alloc(0), /too short for a safetensors header/);
  file('seven-bytes', Buffer.alloc(7), /too short/);
  file('zero-header-length', Buffer.concat([u64(0), sixteenBytes]), /header length is 0/);
  file('huge-header-length', fileFromText('{}', Buffer.alloc(0), 2n ** 40n), /exceeds the limit of 100000000 bytes/);
  file('header-length-just-over-limit', fileFromText('{}', Buffer.alloc(0), 100_000_001), /exceeds the limit/);
  file('header-past-end-of-file', fileFromText('{}', Buffer.alloc(0), 3), /runs past the end of the file/);
  file('not-json', fileFromText('{this is not json}', Buffer.alloc(0)), /invalid JSON/);
  file('json-array', fileFromText('[1, 2]  ', Buffer.alloc(0)), /does not start with '\{'/);
  file('leading-space', fileFromText(' {}     ', Buffer.alloc(0)), /does not start with '\{'/);
  file('truncated-json', fileFromText('{"a": {"dtype": "F32"', Buffer.alloc(0)), /invalid JSON/);
  file('garbage-after-json', fileFromText('{}xx    ', Buffer.alloc(0)), /invalid JSON/);
  file('invalid-utf8', Buffer.concat([u64(4), Buffer.from([0x7b, 0xff, 0xfe, 0x7d])]), /invalid JSON/);
  file(
    'duplicate-tensor-name',
    fileFromText(
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}',
      sixteenBytes,
    ),
    /"a" appears twice/,
  );
  file(
    'duplicate-field',
    fileFromText('{"a":{"dtype":"F32","dtype":"F64","shape":[2],"data_offsets":[0,8]}}', Buffer.alloc(8)),
    /"dtype" appears twice/,
  );
  withTensors('unknown-dtype', { a: { dtype: 'F4', shape: [2], data_offsets: [0, 1] } }, Buffer.alloc(1), /unknown or unsupported dtype "F4"/);
  withTensors('dtype-not-string', { a: { dtype: 32, shape: [2], data_offsets: [0, 8] } }, Buffer.alloc(8), /has no string dtype/);
  withTensors('missing-dtype', { a: { shape: [2], data_offsets: [0, 8] } }, Buffer.alloc(8), /has no string dtype/);
  withTensors('negative-shape', { a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, Buffer.alloc(8), /shape\[0\] is negative/);
  withTensors('float-shape', { a: { dtype: 'F32', shape: [2.5], data_offsets: [0, 10] } }, Buffer.alloc(10), /shape\[0\] must be a non-negative integer, got 2\.5/);
  withTensors('shape-not-array', { a: { dtype: 'F32', shape: '2', data_offsets: [0, 8] } }, Buffer.alloc(8), /has no shape array/);
  withTensors('shape-overflows', { a: { dtype: 'F64', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, Buffer.alloc(8), /shape too large/);
  withTensors('three-offsets', { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8, 9] } }, Buffer.alloc(8), /needs data_offsets \[begin, end\]/);
  withTensors('missing-offsets', { a: { dtype: 'F32', shape: [2] } }, Buffer.alloc(8), /needs data_offsets/);
  withTensors('negative-offset', { a: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }, Buffer.alloc(8), /data_offsets\[0\] is negative/);
  withTensors('end-before-begin', { a: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, Buffer.alloc(8), /end before they begin/);
  withTensors('byte-count-off-by-one', { a: { dtype: 'F32', shape: [2], data_offsets: [0, 9] } }, Buffer.alloc(9), /spans 9 bytes but its dtype F32 and shape need 8/);
  withTensors('element-count-off-by-one', { a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, Buffer.alloc(8), /spans 8 bytes but .* need 12/);
  withTensors(
    'overlapping-tensors',
    { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
    Buffer.alloc(12),
    /"b" overlaps the tensor before it/,
  );
  withTensors(
    'hole-between-tensors',
    { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [12, 20] } },
    Buffer.alloc(20),
    /hole of 4 bytes before tensor "b"/,
  );
  withTensors('hole-at-start', { a: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, Buffer.alloc(12), /hole of 4 bytes before tensor "a"/);
  withTensors('truncated-data', twoTensors, Buffer.alloc(12), /cover 16 bytes of data but the file holds 12 \(truncated file\?\)/);
  withTensors('trailing-bytes', twoTensors, Buffer.alloc(20), /holds 20 \(trailing bytes\)/);
  withTensors('metadata-not-string', { __metadata__: { format: 'pt', epoch: 3 }, ...twoTensors }, sixteenBytes, /__metadata__\["epoch"\] is not a string/);
  withTensors('metadata-not-object', { __metadata__: 'pt', ...twoTensors }, sixteenBytes, /__metadata__ must be an object/);
  withTensors('tensor-info-not-object', { a: [0, 8] }, Buffer.alloc(8), /"a" must be an object/);
  withTensors('unknown-tensor-field', { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8], offset: 0 } }, Buffer.alloc(8), /unknown field "offset"/);

  // Sharded checkpoints: an index plus shards in a folder.
  const folder = (name: string, files: Record<string, Buffer | string>, problem: RegExp) => {
    const target = path.join(root, name);
    fs.mkdirSync(target, { recursive: true });
    for (const [fileName, content] of Object.entries(files)) fs.writeFileSync(path.join(target, fileName), content);
    cases.push({ name, target, problem });
  };
  const shardA = fileFrom({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, Buffer.alloc(8));
  const index = (weightMap: unknown, extra: object = {}) =>
    JSON.stringify({ metadata: { total_size: 16 }, weight_map: weightMap, ...extra });
  const indexName = 'model.safetensors.index.json';
  folder('index-missing-shard', { [indexName]: index({ a: 'model-1-of-2.safetensors', b: 'model-2-of-2.safetensors' }), 'model-1-of-2.safetensors': shardA }, /names shard "model-2-of-2\.safetensors", which does not exist/);
  const shardAB = fileFrom({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, Buffer.alloc(16));
  folder('index-names-tensor-twice', { [indexName]: index({ a: 's1.safetensors', b: 's2.safetensors' }), 's1.safetensors': shardA, 's2.safetensors': shardAB }, /"a" is stored in s2\.safetensors and in .*s1\.safetensors/);
  folder('index-duplicate-key', { [indexName]: '{"weight_map": {"a": "s1.safetensors", "a": "s1.safetensors"}}', 's1.safetensors': shardA }, /"a" appears twice/);
  folder('index-without-weight-map', { [indexName]: JSON.stringify({ metadata: {} }) }, /has no weight_map object/);
  folder('index-shard-not-string', { [indexName]: index({ a: 3 }) }, /weight_map\["a"\] is not a file name/);
  folder('index-path-traversal', { [indexName]: index({ a: '../escape.safetensors' }) }, /not a file in the index's folder/);
  folder('index-tensor-not-in-shard', { [indexName]: index({ a: 's1.safetensors', b: 's1.safetensors' }), 's1.safetensors': shardA }, /maps "b" to s1\.safetensors, which does not hold it/);
  folder('shard-holds-unlisted-tensor', { [indexName]: index({ a: 's1.safetensors' }), 's1.safetensors': shardAB }, /holds "b", which the index does not list/);
  folder('index-not-json', { [indexName]: '{"weight_map": ' }, /invalid JSON/);
  folder('corrupt-shard', { [indexName]: index({ a: 's1.safetensors' }), 's1.safetensors': shardA.subarray(0, shardA.length - 3) }, /truncated file/);
  folder('empty-folder', {}, /holds neither model\.safetensors\.index\.json nor model\.safetensors/);
  cases.push({ name: 'missing-file', target: path.join(root, 'does-not-exist.safetensors'), problem: /cannot open \(No such file or directory\)/ });
  return cases;
}
