/** The generation part of the addon's interface (cpp/napi/generate_bindings.cpp over cpp/infer). */
import type { NativeModelHandle } from './models';
import type { NativeTensorHandle } from './tensor';

export interface NativeGenerateOptions {
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  stopTokenIds: number[];
  returnLogits: boolean;
  /** 0: chosen by model size. */
  threads: number;
}

export interface NativeGenerateResult {
  tokens: number[][];
  finishReasons: Array<'stop' | 'length' | 'cancelled'>;
  /** [steps, B, V] fp32 when returnLogits. */
  stepLogits: NativeTensorHandle | null;
  cacheBytes: number;
  cacheCapacity: number;
  prefillSeconds: number;
  decodeSeconds: number;
  threads: number;
}

/** Opaque: lets JS cancel a running generation or end one of its sequences. */
export type NativeGenerationControl = { readonly __brand: 'GenerationControl' };

export interface NativeGenerateAddon {
  /** One job off the JS thread; `onTokens` is called on the JS thread once per step with each sequence's token. */
  generate(
    model: NativeModelHandle,
    inputIds: NativeTensorHandle,
    attentionMask: NativeTensorHandle | null,
    options: NativeGenerateOptions,
    onTokens: ((tokens: number[], emitted: boolean[]) => void) | null,
    control: NativeGenerationControl | null,
  ): Promise<NativeGenerateResult>;
  createGenerationControl(): NativeGenerationControl;
  /** The generation ends after its current step; its unfinished sequences report 'cancelled'. */
  generationControlCancel(control: NativeGenerationControl): void;
  /** That sequence ends after the current step, as on a stop token. */
  generationControlStop(control: NativeGenerationControl, sequence: number): void;
}
