/** The checkpoint I/O part of the addon's interface (cpp/napi/io_bindings.cpp for memory and open files; cpp/io/checkpoint_api.cpp, a table of the core's, for the rest). */
import type { NativeConversionOptions, NativeTensorHandle } from './tensor';

/** The dtype names safetensors headers use. */
export type SafetensorsDType =
  | 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL' | 'F8_E4M3' | 'F8_E5M2';

export interface SafetensorsTensorInfo {
  dtype: SafetensorsDType;
  shape: number[];
  /** [begin, end) byte offsets in the data section. */
  dataOffsets: [number, number];
}

/** One tensor of a sharded checkpoint's validated layout. */
export interface NativeShardedTensorInfo extends SafetensorsTensorInfo {
  name: string;
  /** The path of the shard file that holds it. */
  shard: string;
}

/** An open, memory-mapped safetensors file; close() releases the mapping (tensors already read keep it alive). */
export interface NativeSafetensorsHandle {
  keys(): string[];
  header(): Record<string, SafetensorsTensorInfo>;
  metadata(): Record<string, string>;
  get(name: string, options: NativeConversionOptions): NativeTensorHandle;
  close(): void;
}

/** Named tensors in order, as the addon takes and gives them. */
export type NativeNamedTensors = Array<[string, NativeTensorHandle]>;

export interface NativeShardedSaveOptions {
  /** Positive; the core's default is 5 GB. */
  maxShardBytes?: number;
  metadata?: Record<string, string>;
  /** Shard file name prefix; the core's default is "model". */
  prefix?: string;
}

/** Every load and save runs off the JS thread. */
export interface NativeIoAddon {
  safetensorsOpen(path: string): Promise<NativeSafetensorsHandle>;
  safetensorsLoad(path: string, options: NativeConversionOptions): Promise<NativeNamedTensors>;
  safetensorsSave(path: string, tensors: NativeNamedTensors, metadata: Record<string, string>): Promise<void>;
  shardedLoad(indexPath: string, options: NativeConversionOptions): Promise<NativeNamedTensors>;
  /** Resolves to the files written. */
  shardedSave(directory: string, tensors: NativeNamedTensors, options: NativeShardedSaveOptions): Promise<string[]>;
  shardedHeader(indexPath: string): Promise<NativeShardedTensorInfo[]>;
  /** A tensor's bytes as stored (any dtype, float8 included). */
  rawBytes(tensor: NativeTensorHandle): Uint8Array;
  commitCheckpointDirectory(staging: string, target: string): Promise<void>;
}
