/** The generation part of the addon's interface (listed in src/native.ts's NativeAddon). */
import type { NativeTensorHandle } from '../native';
import type { NativeModelHandle } from '../models/native';

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
  generate(
    model: NativeModelHandle,
    inputIds: NativeTensorHandle,
    attentionMask: NativeTensorHandle | null,
    options: NativeGenerateOptions,
    onTokens: ((tokens: number[], emitted: boolean[]) => void) | null,
    control: NativeGenerationControl | null,
  ): Promise<NativeGenerateResult>;
  createGenerationControl(): NativeGenerationControl;
  generationControlCancel(control: NativeGenerationControl): void;
  generationControlStop(control: NativeGenerationControl, sequence: number): void;
}
