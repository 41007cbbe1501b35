/** Inference: KV-cache generation (greedy / sampled, streaming) over CausalLM. */
export { generateText, leftPad, nativeGenerateOptions } from './generate';
export type { GenerateOptions, GenerateResult, GeneratedToken, FinishReason } from './generate';
export { AsyncQueue } from './async_queue';
export { StopStringWatcher } from './stop_strings';
