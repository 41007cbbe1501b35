/**
 * A tokenised corpus packed into training sequences.
 *
 * The token stream (`doc0 EOS doc1 EOS …`, see token_cache.ts) is cut into non-overlapping sequences of
 * exactly seqLen tokens; sequence i is tokens [i·seqLen, (i+1)·seqLen) and the tail shorter than seqLen is
 * dropped. A sequence is both input and labels (the model shifts them). The last ceil(validationFraction ·
 * total) sequences (at least one when the fraction is > 0) are the validation split, the rest train.
 *
 * Sequence indices are per split: 0..numSequences(split)-1. Batches come from the memory-mapped cache,
 * gathered in C++ off the JS thread.
 */
import { ArgumentError, ConfigError } from '../errors';
import type { Tensor } from '../tensor/tensor';
import { tensor } from '../tensor/factories';
import { seededPermutation } from './shuffle';
import type { DocumentSource } from './text_sources';
import { prepareTokenCache, TokenCache, type TokenizeProgress } from './token_cache';
import type { TokenEncoder } from './tokenizer_types';

export type Split = 'train' | 'validation';

export interface TokenDatasetLayout {
  /** Tokens per sequence. */
  seqLen: number;
  /** Share of the sequences held out for validation, in [0, 1). Default 0. */
  validationFraction?: number;
}

export interface PrepareDatasetOptions extends TokenDatasetLayout {
  tokenizer: TokenEncoder;
  /** Where token caches live. Default: $MOONLIGHT_CACHE_DIR, else ~/.cache/moonlight-torch/tokens. */
  cacheDir?: string;
  /** JSONL field / parquet column holding the text. Default 'text'. */
  textField?: string;
  /** Tokenising progress (only called when the cache is built, not when it is reused). */
  onProgress?: TokenizeProgress;
}

export interface FromTokensOptions extends TokenDatasetLayout {
  vocabSize: number;
  tokenizerFingerprint?: string;
}

/** Where a dataset's tokens live: the mapped cache or, for fromTokens, an array. */
interface TokenStore {
  gather(starts: Float64Array, seqLen: number): Promise<Tensor>;
  dispose(): void;
}

class ArrayTokenStore implements TokenStore {
  constructor(private readonly tokens: Float64Array) {}

  async gather(starts: Float64Array, seqLen: number): Promise<Tensor> {
    const rows = new Float64Array(starts.length * seqLen);
    starts.forEach((start, row) => rows.set(this.tokens.subarray(start, start + seqLen), row * seqLen));
    return tensor(rows, { shape: [starts.length, seqLen], dtype: 'int64' });
  }

  dispose(): void {}
}

interface DatasetFacts {
  seqLen: number;
  numTokens: number;
  vocabSize: number;
  cachePath: string | null;
  tokenizerFingerprint: string | null;
  description: string;
}

export class TokenDataset {
  readonly seqLen: number;
  readonly numTokens: number;
  readonly vocabSize: number;
  /** The `.tokens` file batches are read from; null for fromTokens datasets. */
  readonly cachePath: string | null;
  readonly tokenizerFingerprint: string | null;
  /** true when prepare() reused an existing cache (nothing was tokenised). */
  readonly cacheReused: boolean;
  readonly #store: TokenStore;
  readonly #numTrain: number;
  readonly #numValidation: number;

  private constructor(facts: DatasetFacts, validationFraction: number | undefined, store: TokenStore, cacheReused: boolean) {
    this.seqLen = facts.seqLen;
    this.numTokens = facts.numTokens;
    this.vocabSize = facts.vocabSize;
    this.cachePath = facts.cachePath;
    this.tokenizerFingerprint = facts.tokenizerFingerprint;
    this.cacheReused = cacheReused;
    this.#store = store;
    const total = Math.floor(facts.numTokens / facts.seqLen);
    if (total < 1) {
      store.dispose();
      throw new ConfigError(
        `${facts.description} has ${facts.numTokens} tokens, but one sequence of seq_len ${facts.seqLen} needs ` +
          `${facts.seqLen}; use a smaller --seq_len or more data`,
      );
    }
    const fraction = validationFraction ?? 0;
    this.#numValidation = fraction > 0 ? Math.max(1, Math.ceil(fraction * total)) : 0;
    this.#numTrain = total - this.#numValidation;
    if (this.#numTrain < 1) {
      store.dispose();
      throw new ConfigError(
        `validation fraction ${fraction} of ${facts.description}'s ${total} sequences of ${facts.seqLen} tokens leaves ` +
          'no training sequence; use a smaller validation fraction, a smaller --seq_len or more data',
      );
    }
  }

  /**
   * Tokenises `source` into the token cache (or reuses the cache from an earlier run) and maps it.
   * `source`: a file, a folder or a list of them (see text_sources.ts); for a dataset name use
   * resolveDataset(name).files.
   */
  static async prepare(source: DocumentSource, options: PrepareDatasetOptions): Promise<TokenDataset> {
    checkLayout(options);
    const prepared = await prepareTokenCache(source, options);
    const { sidecar } = prepared;
    const cache = TokenCache.open(prepared.tokensPath, sidecar.dtype, sidecar.numTokens);
    const store: TokenStore = { gather: (starts, seqLen) => cache.gather(starts, seqLen), dispose: () => cache.dispose() };
    const description = `dataset ${typeof source === 'string' ? source : source.join(', ')}`;
    const facts: DatasetFacts = {
      seqLen: options.seqLen,
      numTokens: sidecar.numTokens,
      vocabSize: sidecar.tokenizer.vocabSize,
      cachePath: prepared.tokensPath,
      tokenizerFingerprint: sidecar.tokenizer.fingerprint,
      description,
    };
    return new TokenDataset(facts, options.validationFraction, store, prepared.reused);
  }

  /** A dataset over tokens already in memory (tests, tiny experiments); ids must be below vocabSize. */
  static fromTokens(tokens: ArrayLike<number>, options: FromTokensOptions): TokenDataset {
    checkLayout(options);
    if (!Number.isInteger(options.vocabSize) || options.vocabSize < 1) {
      throw new ArgumentError(`vocabSize must be a positive integer, got ${options.vocabSize}`);
    }
    const ids = Float64Array.from(tokens);
    const bad = ids.findIndex((id) => !Number.isInteger(id) || id < 0 || id >= options.vocabSize);
    if (bad !== -1) throw new ArgumentError(`tokens[${bad}] = ${ids[bad]} is not an id below vocabSize ${options.vocabSize}`);
    const facts: DatasetFacts = {
      seqLen: options.seqLen,
      numTokens: ids.length,
      vocabSize: options.vocabSize,
      cachePath: null,
      tokenizerFingerprint: options.tokenizerFingerprint ?? null,
      description: 'the in-memory token dataset',
    };
    return new TokenDataset(facts, options.validationFraction, new ArrayTokenStore(ids), false);
  }

  /** Sequences in a split, or in both when no split is given. */
  numSequences(split?: Split): number {
    if (split === undefined) return this.#numTrain + this.#numValidation;
    return checkSplit(split) === 'train' ? this.#numTrain : this.#numValidation;
  }

  /**
   * The order to visit a split's sequences in: for 'train' a permutation of 0..n-1 fixed by (seed, epoch)
   * (shuffle.ts: the same on every machine, a different one each epoch); for 'validation' 0..n-1 in order.
   */
  order(split: Split, seed: number, epoch: number): Uint32Array {
    const count = this.numSequences(split);
    if (split === 'validation') return Uint32Array.from({ length: count }, (_, i) => i);
    return seededPermutation(count, seed, epoch);
  }

  /** int64 [indices.length, seqLen]: the split's sequences at `indices`, gathered off the JS thread. */
  async batch(split: Split, indices: ArrayLike<number>): Promise<Tensor> {
    const count = this.numSequences(split);
    const first = split === 'train' ? 0 : this.#numTrain;
    if (indices.length === 0) throw new ArgumentError('a batch needs at least one sequence index');
    const starts = new Float64Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const index = indices[i];
      if (!Number.isInteger(index) || index < 0 || index >= count) {
        throw new ArgumentError(`sequence index ${index} (position ${i}) is outside the ${split} split's ${count} sequences`);
      }
      starts[i] = (first + index) * this.seqLen;
    }
    return this.#store.gather(starts, this.seqLen);
  }

  /** The validation split in order, batchSize indices at a time; the last batch may be smaller. */
  *evalBatches(batchSize: number): Generator<Uint32Array> {
    checkPositiveInteger(batchSize, 'batchSize');
    for (let start = 0; start < this.#numValidation; start += batchSize) {
      const end = Math.min(start + batchSize, this.#numValidation);
      yield Uint32Array.from({ length: end - start }, (_, i) => start + i);
    }
  }

  /** Releases the memory mapping. Tensors already returned by batch() stay valid. */
  dispose(): void {
    this.#store.dispose();
  }
}

function checkSplit(split: Split): Split {
  if (split !== 'train' && split !== 'validation') {
    throw new ArgumentError(`split must be 'train' or 'validation', got ${JSON.stringify(split)}`);
  }
  return split;
}

export function checkPositiveInteger(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new ArgumentError(`${name} must be a positive integer, got ${value}`);
}

function checkLayout(layout: TokenDatasetLayout): void {
  checkPositiveInteger(layout.seqLen, 'seqLen');
  const fraction = layout.validationFraction ?? 0;
  if (typeof fraction !== 'number' || !(fraction >= 0 && fraction < 1)) {
    throw new ArgumentError(`validationFraction must be a number in [0, 1), got ${fraction}`);
  }
}
