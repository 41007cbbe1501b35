/**
 * Log-likelihood of continuations given contexts, lm-evaluation-harness style: the context/continuation split is on
 * token boundaries of the whole text (encode(context) and encode(context + continuation); the continuation tokens
 * are the tail past len(encode(context))), and the score is the sum of the continuation tokens' log-probabilities.
 */
import { ArgumentError } from '../errors';
import type { CausalLM } from '../models/causal_lm';
import type { TokenEncoder } from '../data/tokenizer_types';
import { tensor } from '../tensor/factories';

/** One (context, continuation) pair as token ids. */
export interface ContinuationRequest {
  contextIds: number[];
  continuationIds: number[];
}

/**
 * Token ids of a (context, continuation) pair as lm-eval's _encode_pair: trailing whitespace of the context moves to
 * the continuation, the pair is encoded whole, and the continuation is what follows the context's own encoding. An
 * empty context is replaced by EOS, as lm-eval does, so the first continuation token has something to condition on.
 */
export function encodeContinuation(tokenizer: TokenEncoder, context: string, continuation: string): ContinuationRequest {
  const trailing = context.length - context.trimEnd().length;
  if (trailing > 0) {
    continuation = context.slice(context.length - trailing) + continuation;
    context = context.slice(0, context.length - trailing);
  }
  const whole = tokenizer.encode(context + continuation);
  const contextLength = tokenizer.encode(context).length;
  const contextIds = whole.slice(0, contextLength);
  const continuationIds = whole.slice(contextLength);
  if (continuationIds.length === 0) throw new ArgumentError(`continuation ${JSON.stringify(continuation)} encodes to no tokens after its context`);
  return { contextIds: contextIds.length > 0 ? contextIds : [tokenizer.eosTokenId], continuationIds };
}

export interface ContinuationScoringOptions {
  /** Requests per forward pass. */
  batchSize: number;
  /** Longest input in tokens: longer ones lose tokens from the left, as lm-eval truncates. Default: no limit. */
  maxLength?: number;
  /** Id placed in padding positions (masked out); any valid id. */
  padId: number;
  /** Called after each batch with the number of requests scored so far. */
  onBatch?: (done: number) => void;
}

/**
 * Sum of log-probabilities (nats) of each request's continuation tokens. Rows are right-padded within a batch with an
 * attention mask (causal attention: padding after a row's tokens cannot change them). The forward pass runs off the JS
 * thread; the log-softmax runs in fp32 on the continuation positions only ([continuation tokens, vocab] per row).
 */
export async function continuationLogLikelihoods(model: CausalLM, requests: readonly ContinuationRequest[], options: ContinuationScoringOptions): Promise<number[]> {
  const { batchSize, padId } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError(`batchSize must be a positive integer, got ${batchSize}`);
  const results: number[] = [];
  for (let start = 0; start < requests.length; start += batchSize) {
    const batch = requests.slice(start, start + batchSize).map((request) => inputOf(request, options.maxLength));
    const width = Math.max(...batch.map((row) => row.input.length));
    const ids = batch.map((row) => [...row.input, ...Array(width - row.input.length).fill(padId)]);
    const mask = batch.map((row) => [...Array(row.input.length).fill(1), ...Array(width - row.input.length).fill(0)]);
    const { logits, loss } = await model.forward(ids, { attentionMask: mask });
    loss?.dispose();
    try {
      batch.forEach((row, b) => results.push(rowLogLikelihood(logits, b, row)));
    } finally {
      logits.dispose();
    }
    options.onBatch?.(results.length);
  }
  return results;
}

interface ScoredRow {
  /** context + continuation without its last token (the model predicts token t+1 at position t). */
  input: number[];
  /** The continuation tokens: predicted at positions input.length − targets.length … input.length − 1. */
  targets: number[];
}

function inputOf(request: ContinuationRequest, maxLength: number | undefined): ScoredRow {
  const whole = [...request.contextIds, ...request.continuationIds];
  let input = whole.slice(0, -1);
  if (maxLength !== undefined && input.length > maxLength) input = input.slice(input.length - maxLength);
  const targets = request.continuationIds.slice(-Math.min(request.continuationIds.length, input.length));
  return { input, targets };
}

function rowLogLikelihood(logits: import('../tensor/tensor').Tensor, row: number, scored: ScoredRow): number {
  const first = scored.input.length - scored.targets.length;
  const rowLogits = logits.slice(0, row, row + 1).slice(1, first, scored.input.length).to({ dtype: 'float32' });
  const logProbs = rowLogits.logSoftmax(-1);
  const vocab = logProbs.shape[2];
  const flat = logProbs.reshape([-1]);
  const index = tensor(scored.targets.map((target, t) => t * vocab + target), { dtype: 'int64' });
  const picked = flat.indexSelect(0, index);
  const values = picked.toNumbers();
  for (const t of [rowLogits, logProbs, flat, index, picked]) t.dispose();
  return values.reduce((sum, value) => sum + value, 0);
}
