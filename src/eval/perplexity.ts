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
}

export interface PerplexityResult {
  /** Mean next-token cross entropy, nats per token. */
  loss: number;
  perplexity: number;
  bitsPerByte: number;
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
    let nats = 0;
    let tokens = 0;
    let bytes = 0;
    await withEvalMode(model, async () => {
      for (let batch = 0; batch < batches; batch++) {
        const start = batch * batchSize;
        const indices = Uint32Array.from({ length: Math.min(batchSize, sequences - start) }, (_, i) => start + i);
        const ids = await dataset.batch(split, indices);
        try {
          const { logits, loss } = await model.forward(ids, { labels: ids });
          const scored = indices.length * (seqLen - 1);
          nats += loss!.item() * scored; // the loss is the mean over every scored position (no ignored labels)
          tokens += scored;
          logits.dispose();
          loss!.dispose();
          bytes += scoredBytes(ids.toNumbers(), seqLen, tokenizer);
        } finally {
          ids.dispose();
        }
        options.onProgress?.(batch + 1, batches);
      }
    });
    const loss = nats / tokens;
    return { loss, perplexity: Math.exp(loss), bitsPerByte: nats / Math.LN2 / bytes, tokens, bytes };
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
