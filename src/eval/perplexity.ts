/**
 * Loss, perplexity and bits per byte of a model on a token dataset.
 *
 * Sequences are the dataset's packed windows of seqLen tokens (documents joined with EOS); every position but the
 * first of a window is scored (predicted from the tokens before it in the window), as in training.
 *
 * Bits per byte = total nats / ln 2 / bytes, where bytes is the UTF-8 length of the text the scored tokens stand for:
 * each window's scored tokens (positions 1..seqLen−1) with EOS separators removed (they stand for no text), decoded
 * together. A multi-byte character cut by a window edge decodes to U+FFFD (3 bytes) instead of its own bytes, so
 * the count can be off by a few bytes per window; it is exact for text that is ASCII at window edges.
 */
import { ArgumentError } from '../errors';
import type { CausalLM } from '../models/causal_lm';
import type { Tensor } from '../tensor/tensor';
import { TokenDataset, type Split } from '../data/token_dataset';
import type { DocumentSource } from '../data/text_sources';
import type { TokenEncoder } from '../data/tokenizer_types';
import { withEvalMode } from './with_eval_mode';

export interface PerplexityOptions {
  tokenizer: TokenEncoder;
  /** Tokens per window; must equal the dataset's when a TokenDataset is given. */
  seqLen: number;
  /** Windows per forward pass. */
  batchSize: number;
  /** Stop after this many batches. Default: all. */
  maxBatches?: number;
  /** Which split of a TokenDataset: default 'validation' when it has one, else 'train' (in order, not shuffled). */
  split?: Split;
  /** Token cache folder when a source is given (see TokenDataset.prepare). */
  cacheDir?: string;
  /** Progress: batches done of the batches to score. */
  onProgress?: (done: number, total: number) => void;
  /** Score only batch b with b % worldSize === rank (each data-parallel rank its share; sum the results). */
  shard?: { rank: number; worldSize: number };
}

/** A batch to score: the loss averages over `scoredTokens` positions (labels other than −100 past the first column). */
export interface ScoredBatch {
  inputIds: Tensor;
  labels: Tensor;
  attentionMask?: Tensor;
  scoredTokens: number;
}

export interface TokenLoss {
  /** Summed next-token cross entropy. */
  nats: number;
  tokens: number;
}

/**
 * Summed loss and scored tokens over `batches`, with the model in eval mode; every batch is disposed after its
 * forward pass (`onScored` sees it first).
 */
export async function scoreBatches(model: CausalLM, batches: AsyncIterable<ScoredBatch>, onScored?: (batch: ScoredBatch) => void): Promise<TokenLoss> {
  let nats = 0;
  let tokens = 0;
  await withEvalMode(model, async () => {
    for await (const batch of batches) {
      try {
        const { logits, loss } = await model.forward(batch.inputIds, { labels: batch.labels, attentionMask: batch.attentionMask });
        // The loss is the mean over the scored positions; a batch without any adds nothing.
        if (batch.scoredTokens > 0) nats += loss!.item() * batch.scoredTokens;
        tokens += batch.scoredTokens;
        logits.dispose();
        loss!.dispose();
        onScored?.(batch);
      } finally {
        batch.inputIds.dispose();
        if (batch.labels !== batch.inputIds) batch.labels.dispose();
        batch.attentionMask?.dispose();
      }
    }
  });
  return { nats, tokens };
}

export interface PerplexityResult {
  /** Mean next-token cross entropy, nats per token. */
  loss: number;
  perplexity: number;
  bitsPerByte: number;
  /** Summed cross entropy, nats (loss × tokens: what data-parallel ranks add up). */
  nats: number;
  /** Tokens scored (predicted). */
  tokens: number;
  /** UTF-8 bytes of the scored text (see the file comment). */
  bytes: number;
}

export async function evaluatePerplexity(model: CausalLM, data: TokenDataset | DocumentSource, options: PerplexityOptions): Promise<PerplexityResult> {
  const { tokenizer, seqLen, batchSize } = options;
  for (const [name, value] of [['seqLen', seqLen], ['batchSize', batchSize]] as const) {
    if (!Number.isInteger(value) || value < (name === 'seqLen' ? 2 : 1)) throw new ArgumentError(`${name} must be an integer ≥ ${name === 'seqLen' ? 2 : 1}, got ${value}`);
  }
  const owned = !(data instanceof TokenDataset);
  const dataset = data instanceof TokenDataset ? data : await TokenDataset.prepare(data, { tokenizer, seqLen, cacheDir: options.cacheDir });
  try {
    if (dataset.seqLen !== seqLen) throw new ArgumentError(`seqLen ${seqLen} differs from the dataset's ${dataset.seqLen}`);
    const split = options.split ?? (dataset.numSequences('validation') > 0 ? 'validation' : 'train');
    const sequences = dataset.numSequences(split);
    if (sequences === 0) throw new ArgumentError(`the ${split} split has no sequence of ${seqLen} tokens: the text is shorter than one window`);
    const batches = Math.min(Math.ceil(sequences / batchSize), options.maxBatches ?? Infinity);
    const { rank, worldSize } = options.shard ?? { rank: 0, worldSize: 1 };
    async function* windows(): AsyncGenerator<ScoredBatch> {
      for (let batch = 0; batch < batches; batch++) {
        if (batch % worldSize !== rank) continue;
        const start = batch * batchSize;
        const indices = Uint32Array.from({ length: Math.min(batchSize, sequences - start) }, (_, i) => start + i);
        const ids = await dataset.batch(split, indices);
        // Every position but a window's first is scored: no ignored labels.
        yield { inputIds: ids, labels: ids, scoredTokens: indices.length * (seqLen - 1) };
        options.onProgress?.(batch + 1, batches);
      }
    }
    let bytes = 0;
    const { nats, tokens } = await scoreBatches(model, windows(), (batch) => {
      bytes += scoredBytes(batch.inputIds.toNumbers(), seqLen, tokenizer);
    });
    const loss = nats / tokens;
    return { loss, perplexity: Math.exp(loss), bitsPerByte: nats / Math.LN2 / bytes, nats, tokens, bytes };
  } finally {
    if (owned) dataset.dispose();
  }
}

function scoredBytes(flatIds: number[], seqLen: number, tokenizer: TokenEncoder): number {
  let bytes = 0;
  for (let row = 0; row * seqLen < flatIds.length; row++) {
    const scored = flatIds.slice(row * seqLen + 1, (row + 1) * seqLen).filter((id) => id !== tokenizer.eosTokenId);
    bytes += Buffer.byteLength(tokenizer.decode(scored), 'utf8');
  }
  return bytes;
}
