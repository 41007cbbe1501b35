/**
 * safetensors checkpoints: read (memory-mapped, strictly validated), write (reference layout, atomic),
 * and sharded checkpoints with a Hugging Face index. Every load/save runs off the JS thread.
 * Corrupt files are CheckpointErrors whose message starts with the file's path.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ArgumentError, CheckpointError } from '../errors';
import { native } from '../native';
import type { NativeNamedTensors, NativeSafetensorsHandle, SafetensorsTensorInfo } from '../native';
import { checkDevice, Device } from '../tensor/device';
import { checkDType, DType } from '../tensor/dtype';
import { operandHandle, Tensor } from '../tensor/tensor';

export interface LoadOptions {
  /** Converts floating-point tensors to this dtype (integer and bool tensors keep theirs). */
  dtype?: DType;
  device?: Device;
}

export interface SaveOptions {
  /** String→string metadata; `format: "pt"` is added unless given. */
  metadata?: Record<string, string>;
}

export interface ShardedSaveOptions extends SaveOptions {
  /** Largest shard in bytes (default 5 GB, as Hugging Face); a bigger tensor gets a shard of its own. */
  maxShardBytes?: number;
  /** File name prefix (default "model"). */
  prefix?: string;
}

export type NamedTensors = Record<string, Tensor> | Map<string, Tensor> | Array<[string, Tensor]>;

/** An open safetensors file: tensors are read lazily, by name, as zero-copy views where possible. */
export class SafetensorsFile {
  readonly #handle: NativeSafetensorsHandle;

  /** @internal */
  constructor(readonly path: string, handle: NativeSafetensorsHandle) {
    this.#handle = handle;
  }

  keys(): string[] {
    return this.#handle.keys();
  }

  header(): Record<string, SafetensorsTensorInfo> {
    return this.#handle.header();
  }

  metadata(): Record<string, string> {
    return this.#handle.metadata();
  }

  get(name: string, options: LoadOptions = {}): Tensor {
    if (typeof name !== 'string') throw new ArgumentError('name must be a string');
    return new Tensor(this.#handle.get(name, checkLoadOptions(options)));
  }

  /** Releases this handle's mapping (tensors already read stay valid). */
  close(): void {
    this.#handle.close();
  }
}

function checkLoadOptions(options: LoadOptions): LoadOptions {
  const checked: LoadOptions = {};
  if (options.dtype !== undefined) checked.dtype = checkDType(options.dtype, 'options.dtype');
  if (options.device !== undefined) checked.device = checkDevice(options.device, 'options.device');
  return checked;
}

function checkPath(file: unknown, argumentName: string): string {
  if (typeof file !== 'string' || file.length === 0) throw new ArgumentError(`${argumentName} must be a file path`);
  return path.resolve(file);
}

function toPairs(tensors: NamedTensors): NativeNamedTensors {
  const entries: Array<[string, unknown]> =
    tensors instanceof Map ? [...tensors.entries()] : Array.isArray(tensors) ? tensors : Object.entries(tensors);
  return entries.map(([name, tensor]) => {
    if (typeof name !== 'string') throw new ArgumentError('tensor names must be strings');
    return [name, operandHandle(tensor, `tensors["${name}"]`)];
  });
}

function fromPairs(pairs: NativeNamedTensors): Record<string, Tensor> {
  const result: Record<string, Tensor> = {};
  for (const [name, handle] of pairs) result[name] = new Tensor(handle);
  return result;
}

export async function openSafetensors(file: string): Promise<SafetensorsFile> {
  const resolved = checkPath(file, 'file');
  return new SafetensorsFile(resolved, await native().safetensorsOpen(resolved));
}

/** All tensors of a file, in file order. */
export async function loadSafetensors(file: string, options: LoadOptions = {}): Promise<Record<string, Tensor>> {
  return fromPairs(await native().safetensorsLoad(checkPath(file, 'file'), checkLoadOptions(options)));
}

/** Writes tensors to one file, atomically (a temporary file renamed into place). */
export async function saveSafetensors(file: string, tensors: NamedTensors, options: SaveOptions = {}): Promise<void> {
  await native().safetensorsSave(checkPath(file, 'file'), toPairs(tensors), options.metadata ?? {});
}

/** Locates the checkpoint of a folder (or index / file path): the index if there is one, else model.safetensors. */
export function resolveCheckpoint(location: string, prefix = 'model'): { kind: 'sharded' | 'single'; path: string } {
  const resolved = checkPath(location, 'location');
  if (!fs.existsSync(resolved)) throw new CheckpointError(`${resolved}: no such file or folder`);
  if (fs.statSync(resolved).isDirectory()) {
    const index = path.join(resolved, `${prefix}.safetensors.index.json`);
    if (fs.existsSync(index)) return { kind: 'sharded', path: index };
    const single = path.join(resolved, `${prefix}.safetensors`);
    if (fs.existsSync(single)) return { kind: 'single', path: single };
    throw new CheckpointError(`${resolved}: holds neither ${prefix}.safetensors.index.json nor ${prefix}.safetensors`);
  }
  return { kind: resolved.endsWith('.json') ? 'sharded' : 'single', path: resolved };
}

/** All tensors of a sharded (or single-file) checkpoint, in index order. */
export async function loadShardedSafetensors(location: string, options: LoadOptions = {}): Promise<Record<string, Tensor>> {
  const found = resolveCheckpoint(location);
  const checked = checkLoadOptions(options);
  const pairs =
    found.kind === 'sharded'
      ? await native().shardedLoad(found.path, checked)
      : await native().safetensorsLoad(found.path, checked);
  return fromPairs(pairs);
}

/** Writes a checkpoint folder split into shards of at most maxShardBytes; returns the files written. */
export async function saveShardedSafetensors(
  directory: string,
  tensors: NamedTensors,
  options: ShardedSaveOptions = {},
): Promise<string[]> {
  const { maxShardBytes, metadata, prefix } = options;
  if (maxShardBytes !== undefined && (!Number.isSafeInteger(maxShardBytes) || maxShardBytes <= 0)) {
    throw new ArgumentError(`options.maxShardBytes must be a positive integer, got ${maxShardBytes}`);
  }
  if (prefix !== undefined && !/^[\w.-]+$/.test(prefix)) throw new ArgumentError('options.prefix must be a plain file name');
  return native().shardedSave(checkPath(directory, 'directory'), toPairs(tensors), { maxShardBytes, metadata, prefix });
}

export interface CheckpointTensorInfo extends SafetensorsTensorInfo {
  name: string;
  /** The file that holds it. */
  file: string;
  bytes: number;
}

/**
 * The layout of a checkpoint (file, index or folder) without reading tensor data: every tensor with its
 * file, dtype, shape and size, plus the metadata of the (first) file. Validates everything it reads.
 */
export async function inspectCheckpoint(
  location: string,
): Promise<{ kind: 'sharded' | 'single'; path: string; tensors: CheckpointTensorInfo[]; metadata: Record<string, string> }> {
  const found = resolveCheckpoint(location);
  const withBytes = (t: SafetensorsTensorInfo & { name: string }, file: string): CheckpointTensorInfo => ({
    ...t,
    file,
    bytes: t.dataOffsets[1] - t.dataOffsets[0],
  });
  if (found.kind === 'single') {
    const file = await openSafetensors(found.path);
    const header = file.header();
    const tensors = file.keys().map((name) => withBytes({ name, ...header[name] }, found.path));
    const metadata = file.metadata();
    file.close();
    return { ...found, tensors, metadata };
  }
  const entries = await native().shardedHeader(found.path);
  const tensors = entries.map(({ shard, ...entry }) => withBytes(entry, shard));
  const metadata = tensors.length > 0 ? (await openSafetensors(tensors[0].file)).metadata() : {};
  return { ...found, tensors, metadata };
}

/** The bytes of a tensor exactly as stored in memory (little-endian, row-major), for any dtype. */
export function tensorBytes(tensor: Tensor): Uint8Array {
  return native().rawBytes(operandHandle(tensor, 'tensor'));
}
