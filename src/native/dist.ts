/** The data-parallel part of the addon's interface (cpp/dist/dist_api.cpp: a table of the core's, called through cpp/napi/api_calls.cpp). */
import type { NativeTensorHandle } from './tensor';

export type DistributedBackend = 'auto' | 'gloo' | 'nccl';

export type ReduceOpName = 'sum' | 'avg';

export interface NativeDistInitOptions {
  rank: number;
  worldSize: number;
  masterAddr: string;
  masterPort: number;
  timeoutMs: number;
  backend?: DistributedBackend;
}

export interface NativeDistState {
  initialized: boolean;
  /** rank, worldSize, bytesSent and backend are set while initialized. */
  rank?: number;
  worldSize?: number;
  bytesSent?: number;
  /** The backends in use: 'gloo', 'nccl' or 'gloo+nccl'. */
  backend?: string;
  glooCompiled: boolean;
  ncclCompiled: boolean;
}

/** Rendezvous and collectives run off the JS thread; a collective leaves its input as it was. */
export interface NativeDistAddon {
  distInit(options: NativeDistInitOptions): Promise<void>;
  distDestroy(): void;
  distState(): NativeDistState;
  /** Resolves to a new tensor holding the result. */
  distCollective(kind: 'allReduce' | 'allGather' | 'reduceScatter', tensor: NativeTensorHandle, op?: ReduceOpName): Promise<NativeTensorHandle>;
  distCollective(kind: 'broadcast', tensor: NativeTensorHandle, root: number): Promise<NativeTensorHandle>;
  distBarrier(): Promise<void>;
}
