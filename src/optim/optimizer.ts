/**
 * What Muon and AdamW share: a native optimizer (cpp/optim/optimizer.h) holding the parameters, their
 * state and groups. step() is one native call that runs off the JS thread; every check happens before any
 * parameter changes, so a rejected step leaves parameters and state as they were.
 */
import { ArgumentError } from '../errors';
import { native, NativeTensorHandle } from '../native';
import type { NativeOptimizerHandle, OptimizerName, ParamGroupInfo, StepReport } from '../native';
import { operandHandle, Tensor } from '../tensor/tensor';
import { collectParameters, NamedParameters, ParamGroup } from './parameters';

/**
 * Data parallelism: the optimizer state is partitioned over the ranks of `distributed.init()` and step()
 * becomes a collective every rank calls. 'zero1': the Moonlight paper's Algorithm 1 (ZeRO-1: each rank owns
 * a contiguous chunk of every gradient bucket; full momentum-applied matrices are gathered for
 * Newton–Schulz). 'whole-matrix': each rank owns whole parameters, balanced by Newton–Schulz cost.
 */
export interface DistributedOptimizerOptions {
  mode: 'zero1' | 'whole-matrix';
  /** Gradient bucket size in bytes (one collective per bucket). Default 25 MiB. */
  bucketBytes?: number;
}

/** What step() does with NaN/Inf gradients: throw an ArgumentError naming them, or skip the step. */
export type NonFiniteGradPolicy = 'error' | 'skip';

function namedHandles(values: Record<string, Tensor> | undefined, where: string): Record<string, NativeTensorHandle> | undefined {
  if (values === undefined) return undefined;
  if (typeof values !== 'object' || values === null) throw new ArgumentError(`${where} must be an object of named Tensors`);
  return Object.fromEntries(Object.entries(values).map(([name, t]) => [name, operandHandle(t, `${where}['${name}']`)]));
}

// The native handle of each optimizer, for native jobs that run its step themselves (CausalLM's accumulated
// train step); kept out of the public class so users cannot reach it.
const nativeHandles = new WeakMap<Optimizer, NativeOptimizerHandle>();

/** The native handle behind an optimizer (internal). */
export function nativeOptimizerHandle(optimizer: Optimizer): NativeOptimizerHandle {
  const handle = nativeHandles.get(optimizer);
  if (handle === undefined) throw new ArgumentError('optimizer must be a Muon or AdamW instance');
  return handle;
}

export abstract class Optimizer {
  readonly #handle: NativeOptimizerHandle;

  protected constructor(kind: OptimizerName, params: NamedParameters | readonly ParamGroup[], options: object) {
    const { params: nativeParams, groups } = collectParameters(params, 'params');
    this.#handle = new (native().OptimizerHandle)(kind, nativeParams, groups, options);
    nativeHandles.set(this, this.#handle);
  }

  /**
   * One optimizer step from each parameter's current `.grad` (parameters without a gradient are left
   * alone), or from `grads` by parameter name when given; computed off the JS thread. Do not touch the
   * parameters or their gradients until it settles.
   */
  async step(grads?: Record<string, Tensor>): Promise<StepReport> {
    return this.#handle.stepAsync(namedHandles(grads, 'grads'));
  }

  /** step() on the JS thread: simpler in scripts, but blocks the event loop for the whole step. */
  stepSync(grads?: Record<string, Tensor>): StepReport {
    return this.#handle.step(namedHandles(grads, 'grads'));
  }

  /** Drops every parameter's gradient (torch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    this.#handle.zeroGrad();
  }

  /** Sets the learning rate of every param group, or of the group named `options.group`. */
  setLr(lr: number, options: { group?: string } = {}): void {
    if (typeof lr !== 'number') throw new ArgumentError(`lr is ${String(lr)}; expected a number`);
    if (options.group === undefined) {
      this.#handle.setLr(lr);
      return;
    }
    const index = this.paramGroups.findIndex((group) => group.name === options.group);
    if (index < 0) {
      const names = this.paramGroups.map((group) => `'${group.name}'`).join(', ');
      throw new ArgumentError(`no param group named '${options.group}'; the groups are ${names}`);
    }
    this.#handle.setLr(lr, index);
  }

  /** The param groups after routing: name, optimizer, lr, weight decay and parameter names. */
  get paramGroups(): ParamGroupInfo[] {
    return this.#handle.groups();
  }

  /** Number of steps taken (skipped steps not counted). */
  get stepCount(): number {
    return this.#handle.stepCount();
  }

  /**
   * The state as named tensors (for safetensors): `state.<param>.momentum_buffer` (Muon),
   * `state.<param>.exp_avg | exp_avg_sq | step` (AdamW), `param_groups.<i>.<hyper-parameter>`,
   * `optimizer.step_count`. Buffers share memory with the optimizer, as torch's state_dict does.
   */
  stateDict(): Record<string, Tensor> {
    const handles = this.#handle.stateDict();
    return Object.fromEntries(Object.entries(handles).map(([name, handle]) => [name, new Tensor(handle)]));
  }

  /**
   * The whole state, in stateDict()'s single-process format. For a distributed optimizer stateDict() is
   * this rank's partition only (plus `shard.<param>.range`), and this gathers every rank's part: a
   * collective that every rank must await; save it from rank 0. loadStateDict() takes this format on any
   * number of ranks, each keeping its own part.
   */
  async fullStateDict(): Promise<Record<string, Tensor>> {
    const handles = await this.#handle.fullStateDictAsync();
    return Object.fromEntries(Object.entries(handles).map(([name, handle]) => [name, new Tensor(handle)]));
  }

  /** Restores a stateDict(); CheckpointError naming the key if anything is missing or mismatched. */
  loadStateDict(state: Record<string, Tensor>): void {
    this.#handle.loadStateDict(namedHandles(state, 'state') ?? {});
  }

  /** Bytes of the optimizer's per-parameter buffers (Muon: one per matrix; AdamW: two per parameter). */
  stateBytes(): number {
    return this.#handle.stateBytes();
  }

  /**
   * Frees the optimizer's state (up to twice the model's size for AdamW) now rather than at garbage
   * collection; any later call is a DisposedError. A step in flight finishes first. Idempotent.
   */
  dispose(): void {
    this.#handle.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
