/**
 * Text generation with a KV cache (MLA's latent cache on DeepSeek-V3/Moonlight, plain K/V on Llama/Qwen2):
 * the whole loop — prefill, cached decoding steps, sampling, stop tokens — runs natively off the JS thread;
 * JS receives each step's tokens (streaming) and the final token lists.
 */
import { ArgumentError } from '../errors';
import { native } from '../native';
import { tensor } from '../tensor/factories';
import { operandHandle, Tensor } from '../tensor/tensor';
import type { TokenEncoder } from '../data/tokenizer_types';
import type { NativeGenerateOptions, NativeGenerateResult, NativeGenerationControl, NativeModelHandle } from '../native';
import { StopStringWatcher } from './stop_strings';
import { AsyncQueue } from './async_queue';

export type FinishReason = 'stop' | 'length' | 'cancelled';

export interface GenerateOptions {
  /** New tokens per sequence at most (default 32). */
  maxNewTokens?: number;
  /** 0 (default): greedy. Otherwise logits are divided by it and sampled. */
  temperature?: number;
  /** Sample among the k most likely tokens only (0 = off). */
  topK?: number;
  /** Sample among the most likely tokens whose probability reaches p (1 = off). */
  topP?: number;
  /** Seed of the sampling generator (default 0): the same seed gives the same tokens. */
  seed?: number;
  /** A sequence ends after generating one of these (the stop token is kept in its tokens). */
  stopTokenIds?: number[];
  /** A sequence ends once its decoded text contains one of these (needs `tokenizer`); tokens after it are dropped. */
  stopStrings?: string[];
  tokenizer?: TokenEncoder;
  /** [B, T]: 1 for tokens, 0 for left padding. */
  attentionMask?: Tensor | number[][];
  /** Keep every step's next-token logits ([steps, B, vocab] fp32) in the result. */
  returnLogits?: boolean;
  /** Aborting ends the native loop after its current step; unfinished sequences report 'cancelled'. */
  signal?: AbortSignal;
  /**
   * Intra-op threads the generation runs on. Default (0): one for small models (under 32 MB of weights read
   * per token, where waking threads for each of a decoding step's tiny ops costs more than it saves), else
   * libtorch's default (every core).
   */
  threads?: number;
}

export interface GenerateResult {
  /** Per sequence, the new tokens (without the prompt). */
  tokens: number[][];
  finishReasons: FinishReason[];
  /** Per sequence, the decoded new text when a tokenizer was given. */
  texts?: string[];
  stepLogits: Tensor | null;
  /** Bytes the KV cache allocated, and for how many positions. */
  cacheBytes: number;
  cacheCapacity: number;
  prefillSeconds: number;
  decodeSeconds: number;
  /** Intra-op threads it ran on. */
  threads: number;
}

export interface GeneratedToken {
  sequence: number;
  token: number;
  /** The text this token completes (may be '' while a multi-byte character is incomplete), with a tokenizer. */
  text?: string;
}

function checkInteger(value: unknown, name: string, minimum: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
    throw new ArgumentError(`options.${name} must be an integer ≥ ${minimum}, got ${String(value)}`);
  }
  return value;
}

function tokenTensor(value: Tensor | number[][], name: string): Tensor {
  if (value instanceof Tensor) {
    if (value.dtype !== 'int64' && value.dtype !== 'int32') throw new ArgumentError(`${name} must be an int64 or int32 Tensor, got ${value.dtype}`);
    return value;
  }
  if (!Array.isArray(value) || value.length === 0 || !value.every((row) => Array.isArray(row))) {
    throw new ArgumentError(`${name} must be a Tensor or a non-empty 2-D array of integers`);
  }
  if (value.some((row) => row.length !== value[0].length)) throw new ArgumentError(`${name} rows must have equal lengths (left-pad them)`);
  value.flat().forEach((id, i) => {
    if (!Number.isSafeInteger(id)) throw new ArgumentError(`${name} element ${i} is ${String(id)}; expected an integer`);
  });
  return tensor(value, { dtype: 'int64' });
}

/** Validates the options (ArgumentError naming the option) and converts them for the native job. */
export function nativeGenerateOptions(options: GenerateOptions): NativeGenerateOptions {
  if (options === null || typeof options !== 'object') throw new ArgumentError('options must be an object');
  const temperature = options.temperature ?? 0;
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0) {
    throw new ArgumentError(`options.temperature must be a finite number ≥ 0, got ${String(temperature)}`);
  }
  const topP = options.topP ?? 1;
  if (typeof topP !== 'number' || !(topP > 0 && topP <= 1)) throw new ArgumentError(`options.topP must be in (0, 1], got ${String(topP)}`);
  const stopTokenIds = options.stopTokenIds ?? [];
  if (!Array.isArray(stopTokenIds)) throw new ArgumentError('options.stopTokenIds must be an array of token ids');
  stopTokenIds.forEach((id, i) => checkInteger(id, `stopTokenIds[${i}]`, 0));
  if (options.stopStrings !== undefined) {
    if (!Array.isArray(options.stopStrings) || options.stopStrings.some((s) => typeof s !== 'string' || s === '')) {
      throw new ArgumentError('options.stopStrings must be an array of non-empty strings');
    }
    if (options.tokenizer === undefined) throw new ArgumentError('options.stopStrings needs options.tokenizer to decode the tokens');
  }
  return {
    maxNewTokens: checkInteger(options.maxNewTokens ?? 32, 'maxNewTokens', 1),
    temperature,
    topK: checkInteger(options.topK ?? 0, 'topK', 0),
    topP,
    seed: checkInteger(options.seed ?? 0, 'seed', 0),
    stopTokenIds,
    returnLogits: options.returnLogits ?? false,
    threads: checkInteger(options.threads ?? 0, 'threads', 0),
  };
}

type StepListener = (tokens: number[], emitted: boolean[]) => void;

/** A running native generation and the means to end it early. */
interface NativeRun {
  result: Promise<NativeGenerateResult>;
  cancel(): void;
  stopSequence(sequence: number): void;
}

function startNative(handle: NativeModelHandle, inputIds: Tensor | number[][], options: GenerateOptions, onTokens: StepListener | null): NativeRun {
  const nativeOptions = nativeGenerateOptions(options);
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new ArgumentError('options.signal must be an AbortSignal');
  const ids = tokenTensor(inputIds, 'inputIds');
  const mask = options.attentionMask === undefined ? null : tokenTensor(options.attentionMask, 'options.attentionMask');
  const addon = native();
  const control: NativeGenerationControl = addon.createGenerationControl();
  const cancel = (): void => addon.generationControlCancel(control);
  if (signal?.aborted) cancel();
  signal?.addEventListener('abort', cancel, { once: true });
  const result = addon.generate(handle, operandHandle(ids, 'inputIds'), mask && operandHandle(mask, 'options.attentionMask'),
    nativeOptions, onTokens, control);
  const detach = (): void => signal?.removeEventListener('abort', cancel);
  result.then(detach, detach);
  return { result, cancel, stopSequence: (sequence) => addon.generationControlStop(control, sequence) };
}

/**
 * Follows each sequence's tokens as the native loop emits them: with a tokenizer, the text each token
 * completes; with stop strings, a sequence whose text holds one is ended in the native loop (which may have
 * run a step further: finish() trims) and its later tokens are reported as dropped.
 */
class SequenceWatchers {
  private readonly watchers: StopStringWatcher[] = [];

  constructor(private readonly options: GenerateOptions, private readonly stopSequence: (sequence: number) => void) {}

  accept(sequence: number, token: number): { dropped: boolean; text?: string } {
    const { tokenizer } = this.options;
    if (tokenizer === undefined) return { dropped: false };
    const watcher = (this.watchers[sequence] ??= new StopStringWatcher(tokenizer, this.options.stopStrings ?? []));
    if (watcher.stopped) return { dropped: true };
    const text = watcher.push(token);
    if (watcher.stopped) this.stopSequence(sequence);
    return { dropped: false, text };
  }
}

/** Calls `onToken` for each token a step emitted (finished sequences' filler slots are skipped). */
function eachEmitted(onToken: (sequence: number, token: number) => void): StepListener {
  return (tokens, emitted) => tokens.forEach((token, sequence) => {
    if (emitted[sequence]) onToken(sequence, token);
  });
}

function finish(result: NativeGenerateResult, options: GenerateOptions): GenerateResult {
  const tokens = result.tokens.map((row) => [...row]);
  const finishReasons: FinishReason[] = [...result.finishReasons];
  let texts: string[] | undefined;
  if (options.tokenizer !== undefined) {
    const tokenizer = options.tokenizer;
    if (options.stopStrings !== undefined) {
      tokens.forEach((row, b) => {
        const cut = new StopStringWatcher(tokenizer, options.stopStrings ?? []).firstStopIndex(row);
        if (cut !== null) {
          tokens[b] = row.slice(0, cut + 1);
          finishReasons[b] = 'stop';
        }
      });
    }
    texts = tokens.map((row) => tokenizer.decode(row));
  }
  return {
    tokens,
    finishReasons,
    texts,
    stepLogits: result.stepLogits === null ? null : new Tensor(result.stepLogits),
    cacheBytes: result.cacheBytes,
    cacheCapacity: result.cacheCapacity,
    prefillSeconds: result.prefillSeconds,
    decodeSeconds: result.decodeSeconds,
    threads: result.threads,
  };
}

/** Generates up to maxNewTokens per sequence of inputIds [B, T] (left-padded, with attentionMask, for batches). */
export async function generateWithHandle(handle: NativeModelHandle, inputIds: Tensor | number[][], options: GenerateOptions = {}): Promise<GenerateResult> {
  let watchers: SequenceWatchers | null = null;
  let failure: unknown = null;
  // The listener runs on the JS thread from the native job's thread-safe function: a tokenizer that throws
  // there would be an uncaught exception, so it is kept and rethrown once the job ends.
  const onToken = (sequence: number, token: number): void => {
    if (failure !== null) return;
    try {
      watchers?.accept(sequence, token);
    } catch (error) {
      failure = error;
    }
  };
  const run = startNative(handle, inputIds, options, options.stopStrings?.length ? eachEmitted(onToken) : null);
  watchers = new SequenceWatchers(options, run.stopSequence);
  const result = await run.result;
  if (failure !== null) throw failure;
  return finish(result, options);
}

/**
 * The same generation, yielding each new token as the native loop produces it. Stop strings end a
 * sequence's stream at the token that completes them, and that sequence in the native loop; leaving the
 * loop early (break, return, throw) cancels the native generation.
 */
export async function* generateStreamWithHandle(
  handle: NativeModelHandle,
  inputIds: Tensor | number[][],
  options: GenerateOptions = {},
): AsyncGenerator<GeneratedToken> {
  const queue = new AsyncQueue<GeneratedToken>();
  let watchers: SequenceWatchers | null = null;
  let received = 0;
  let expected: number | null = null;
  let failed = false;
  // Runs on the JS thread from the native job's thread-safe function: an exception here (a tokenizer that
  // cannot decode an id) would escape to N-API as an uncaught exception, so it ends the stream instead.
  const onToken = (sequence: number, token: number): void => {
    if (failed) return;
    received += 1;
    try {
      const { dropped, text } = watchers?.accept(sequence, token) ?? { dropped: false };
      if (!dropped) queue.push({ sequence, token, ...(text === undefined ? {} : { text }) });
    } catch (error) {
      failed = true;
      queue.fail(error);
    }
  };
  const emitTokens = eachEmitted(onToken);
  const onTokens: StepListener = (tokens, emitted) => {
    emitTokens(tokens, emitted);
    if (expected !== null && received >= expected) queue.close();
  };
  const run = startNative(handle, inputIds, options, onTokens);
  watchers = new SequenceWatchers(options, run.stopSequence);
  run.result.then(
    (result) => {
      // The promise may settle before the last step's tokens reach JS: close once all of them arrived.
      expected = result.tokens.reduce((sum, row) => sum + row.length, 0);
      if (received >= expected) queue.close();
    },
    (error: unknown) => queue.fail(error),
  );
  let complete = false;
  try {
    yield* queue;
    complete = true;
  } finally {
    if (!complete) run.cancel();
  }
}

/**
 * Text in, text out: encodes the prompt(s), left-pads them into one batch, generates (stopping at the
 * tokenizer's EOS unless stopTokenIds says otherwise) and decodes the new tokens.
 */
export async function generateText(
  model: { generate(inputIds: Tensor | number[][], options?: GenerateOptions): Promise<GenerateResult>; readonly config: { padTokenId?: number | null } },
  tokenizer: TokenEncoder,
  prompts: string | string[],
  options: Omit<GenerateOptions, 'attentionMask' | 'tokenizer'> = {},
): Promise<GenerateResult & { texts: string[] }> {
  const list = typeof prompts === 'string' ? [prompts] : prompts;
  if (!Array.isArray(list) || list.length === 0 || list.some((p) => typeof p !== 'string')) {
    throw new ArgumentError('prompts must be a string or a non-empty array of strings');
  }
  const { inputIds, attentionMask } = leftPad(list.map((p) => tokenizer.encode(p)), model.config.padTokenId ?? 0);
  const result = await model.generate(inputIds, {
    ...options,
    stopTokenIds: options.stopTokenIds ?? [tokenizer.eosTokenId],
    attentionMask,
    tokenizer,
  });
  return { ...result, texts: result.texts ?? [] };
}

/** Rows of different lengths → [B, maxLen] ids padded on the left with padId, and the matching 0/1 mask. */
export function leftPad(rows: number[][], padId: number): { inputIds: number[][]; attentionMask: number[][] } {
  const width = Math.max(...rows.map((row) => row.length));
  if (width === 0) throw new ArgumentError('every prompt encodes to no tokens');
  return {
    inputIds: rows.map((row) => [...new Array<number>(width - row.length).fill(padId), ...row]),
    attentionMask: rows.map((row) => [...new Array<number>(width - row.length).fill(0), ...new Array<number>(row.length).fill(1)]),
  };
}
