/**
 * A minimal safetensors reader for test fixtures (F32/I64 only), Python-free: 8-byte little-endian header
 * length, a JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian data. The real
 * reader (bf16, shards, index) belongs to the checkpoint issue.
 */
import * as fs from 'fs';
import { tensor, Tensor } from '../../src';

export function readSafetensors(file: string): Map<string, Tensor> {
  const bytes = fs.readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const dataStart = 8 + headerLength;
  const result = new Map<string, Tensor>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [begin, end] = info.data_offsets;
    const raw = bytes.subarray(dataStart + begin, dataStart + end);
    // Copy into an aligned buffer: the file's offsets need not be 4/8-byte aligned.
    const aligned = new Uint8Array(raw.length);
    aligned.set(raw);
    let values: Float32Array | BigInt64Array;
    if (info.dtype === 'F32') values = new Float32Array(aligned.buffer);
    else if (info.dtype === 'I64') values = new BigInt64Array(aligned.buffer);
    else throw new Error(`test safetensors reader: ${name} has dtype ${info.dtype}; only F32 and I64 are read`);
    result.set(name, tensor(values, { shape: info.shape }));
  }
  return result;
}
