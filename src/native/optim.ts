/** The optimizer part of the addon's interface (cpp/train/optimizer_api.cpp: a table of the core's over cpp/optim, called through cpp/napi/api_calls.cpp). */
import type { NativeTensorHandle } from './tensor';

export type OptimizerName = 'muon' | 'adamw';

export interface StepReport {
  /** True when the step was skipped because of NaN/Inf gradients (nonFiniteGrads: 'skip'). */
  skipped: boolean;
  /** The parameters whose gradients were not finite, when skipped. */
  nonFiniteParameters: string[];
}

/** What the optimizer made of the groups, as the native side reports it. */
export interface ParamGroupInfo {
  name: string;
  optimizer: OptimizerName;
  lr: number;
  weightDecay: number;
  parameters: string[];
}

export interface NativeParameter {
  name: string;
  tensor: NativeTensorHandle;
}

/** One param group as the core routes it (cpp/optim/optimizer_options.cpp checks every field). */
export interface NativeGroupRequest {
  name: string;
  /** Indices into the parameter list. */
  parameterIndices: number[];
  optimizer?: OptimizerName;
  lr?: number;
  weightDecay?: number;
}

type NamedHandles = Record<string, NativeTensorHandle>;

export interface NativeOptimizerHandle {
  /** From `grads` by parameter name when given, else from each parameter's .grad. */
  step(grads?: NamedHandles): StepReport;
  stepAsync(grads?: NamedHandles): Promise<StepReport>;
  zeroGrad(): void;
  /** Every group's lr, or only group `group`'s (an index into groups()). */
  setLr(lr: number, group?: number): void;
  /** This rank's state (its partition when distributed); the buffers share memory with the optimizer. */
  stateDict(): NamedHandles;
  /** The state gathered from every rank: a collective when distributed. */
  fullStateDictAsync(): Promise<NamedHandles>;
  loadStateDict(state: NamedHandles): void;
  stateBytes(): number;
  stepCount(): number;
  /** In group index order. */
  groups(): ParamGroupInfo[];
  dispose(): void;
}

export interface NativeOptimAddon {
  /**
   * `options` is the user's options object as it is: the core reads and checks it (cpp/optim/muon_options.cpp,
   * adamw_options.cpp), `options.distributed` ({mode, bucketBytes?}) included.
   */
  OptimizerHandle: new (kind: OptimizerName, params: NativeParameter[], groups: NativeGroupRequest[], options: object) => NativeOptimizerHandle;
}
