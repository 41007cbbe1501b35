/**
 * The data-parallel process group of this process (cpp/dist/process_group: a c10d TCPStore rendezvous and
 * ProcessGroupGloo). `await distributed.init()` reads torchrun's environment (RANK, WORLD_SIZE,
 * MASTER_ADDR, MASTER_PORT; LOCAL_RANK is exposed as localRank) unless options say otherwise. Rendezvous
 * and collectives run off the JS thread; every failure is a DistributedError, a rendezvous that cannot
 * complete fails within timeoutMs.
 */
import { ArgumentError, DistributedError } from '../errors';
import { native, NativeTensorHandle } from '../native';
import type { DistributedBackend, ReduceOpName } from '../native';
import { operandHandle, Tensor } from '../tensor/tensor';

export interface DistributedInitOptions {
  /** This process's rank in [0, worldSize). Default: $RANK. */
  rank?: number;
  /** Number of processes. Default: $WORLD_SIZE. */
  worldSize?: number;
  /** Address of rank 0's rendezvous store. Default: $MASTER_ADDR, else 127.0.0.1. */
  masterAddr?: string;
  /** Port rank 0 listens on. Default: $MASTER_PORT, else 29500. */
  masterPort?: number;
  /** How long the rendezvous and each collective may take. Default 30 000 ms. */
  timeoutMs?: number;
  /**
   * 'auto' (default): gloo for CPU tensors, plus NCCL for CUDA tensors in the CUDA flavour when a GPU is
   * visible; 'gloo'; or 'nccl' (CUDA tensors only; a DistributedError in the CPU flavour, which has no NCCL).
   */
  backend?: DistributedBackend;
}

function integerFrom(value: number | undefined, variable: string, fallback: number | undefined, name: string): number {
  if (value !== undefined) {
    if (!Number.isInteger(value)) throw new ArgumentError(`${name} is ${String(value)}; expected an integer`);
    return value;
  }
  const text = process.env[variable];
  if (text === undefined || text === '') {
    if (fallback !== undefined) return fallback;
    throw new DistributedError(`${name} is not given and $${variable} is not set (run under \`moonlight launch\` or torchrun, or pass options.${name})`);
  }
  const parsed = Number(text);
  if (!Number.isInteger(parsed)) throw new DistributedError(`$${variable} is '${text}'; expected an integer`);
  return parsed;
}

class Distributed {
  /** Initializes the process group; resolves once every rank has joined. */
  async init(options: DistributedInitOptions = {}): Promise<void> {
    if (typeof options !== 'object' || options === null) throw new ArgumentError('options must be an object');
    const worldSize = integerFrom(options.worldSize, 'WORLD_SIZE', undefined, 'worldSize');
    const rank = integerFrom(options.rank, 'RANK', undefined, 'rank');
    const masterPort = integerFrom(options.masterPort, 'MASTER_PORT', 29500, 'masterPort');
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new ArgumentError(`timeoutMs is ${String(timeoutMs)}; expected a positive integer`);
    const masterAddr = options.masterAddr ?? process.env.MASTER_ADDR ?? '127.0.0.1';
    const backend = options.backend ?? 'auto';
    if (!['auto', 'gloo', 'nccl'].includes(backend)) {
      throw new ArgumentError(`backend is '${String(backend)}'; expected 'auto', 'gloo' or 'nccl'`);
    }
    await native().distInit({ rank, worldSize, masterAddr, masterPort, timeoutMs, backend });
  }

  get isInitialized(): boolean {
    return native().distState().initialized;
  }

  /** This process's rank; 0 when not initialized (a single process). */
  get rank(): number {
    return native().distState().rank ?? 0;
  }

  /** Number of processes; 1 when not initialized. */
  get worldSize(): number {
    return native().distState().worldSize ?? 1;
  }

  /** The c10d backends in use ('gloo', 'nccl' or 'gloo+nccl'); null when not initialized. */
  get backend(): string | null {
    return native().distState().backend ?? null;
  }

  /** $LOCAL_RANK (the rank on this node), 0 when unset. */
  get localRank(): number {
    const text = process.env.LOCAL_RANK;
    return text === undefined || text === '' ? 0 : Number(text);
  }

  /** Payload bytes this rank has sent in collectives since init (see cpp/dist/process_group.h). */
  get bytesSent(): number {
    return native().distState().bytesSent ?? 0;
  }

  /** The sum (or mean) of `tensor` over the ranks, as a new tensor. */
  async allReduce(tensor: Tensor, op: ReduceOpName = 'sum'): Promise<Tensor> {
    return new Tensor(await native().distCollective('allReduce', operandHandle(tensor, 'tensor'), op));
  }

  /** Every rank's `tensor` stacked: [worldSize, ...shape]. */
  async allGather(tensor: Tensor): Promise<Tensor> {
    return new Tensor(await native().distCollective('allGather', operandHandle(tensor, 'tensor')));
  }

  /** `tensor` is [worldSize, ...]; returns this rank's row of the sum (or mean) over ranks. */
  async reduceScatter(tensor: Tensor, op: ReduceOpName = 'sum'): Promise<Tensor> {
    return new Tensor(await native().distCollective('reduceScatter', operandHandle(tensor, 'tensor'), op));
  }

  /** Rank `root`'s `tensor`, on every rank. */
  async broadcast(tensor: Tensor, root = 0): Promise<Tensor> {
    return new Tensor(await native().distCollective('broadcast', operandHandle(tensor, 'tensor'), root));
  }

  async barrier(): Promise<void> {
    await native().distBarrier();
  }

  /** Leaves the process group (distributed optimizers made from it keep it alive until dropped). */
  destroy(): void {
    native().distDestroy();
  }
}

export const distributed = new Distributed();
