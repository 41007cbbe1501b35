/**
 * Multiple-choice scoring (MMLU / HellaSwag style) by log-likelihood, as lm-evaluation-harness scores
 * output_type: multiple_choice: each choice's continuation log-likelihood given the prompt; the prediction is the
 * argmax (acc) or the argmax of log-likelihood / character length of the choice text (acc_norm: lm-eval divides by
 * len(choice) in characters, i.e. Unicode code points).
 */
import type { CausalLM } from '../models/causal_lm';
import type { TokenEncoder } from '../data/tokenizer_types';
import { continuationLogLikelihoods, encodeContinuation, type ContinuationRequest } from './continuation_logprobs';
import { fewShotContext, readMultipleChoiceTask, TARGET_DELIMITER, type MultipleChoiceItem } from './multiple_choice_task';
import { accuracyStderr, argmax } from './stats';
import { withEvalMode } from './with_eval_mode';

export interface MultipleChoiceOptions {
  /** Solved examples before each question. Default 0. */
  fewShot?: number;
  /** (item, choice) pairs per forward pass. Default 8. */
  batchSize?: number;
  /** Picks the few-shot examples. Default 1234 (lm-eval's default fewshot seed). */
  seed?: number;
  /** Longest input in tokens (left-truncated beyond it, as lm-eval). Default: the model's max_position_embeddings. */
  maxLength?: number;
  /** Include per-item log-likelihoods in the result. Default false. */
  perItem?: boolean;
  /** Progress: pairs scored so far of the total. */
  onProgress?: (done: number, total: number) => void;
}

export interface MultipleChoiceItemResult {
  source: string;
  answer: number;
  /** Sum of continuation token log-probabilities (nats), per choice. */
  logLikelihoods: number[];
  predicted: number;
  predictedNorm: number;
}

export interface MultipleChoiceResult {
  task: string;
  items: number;
  fewShot: number;
  seed: number;
  acc: number;
  accStderr: number;
  accNorm: number;
  accNormStderr: number;
  perItem?: MultipleChoiceItemResult[];
}

export async function scoreMultipleChoice(model: CausalLM, tokenizer: TokenEncoder, taskFile: string, options: MultipleChoiceOptions = {}): Promise<MultipleChoiceResult> {
  const items = readMultipleChoiceTask(taskFile);
  const fewShot = options.fewShot ?? 0;
  const seed = options.seed ?? 1234;
  const requests = multipleChoiceRequests(items, tokenizer, fewShot, seed);
  const total = requests.length;
  const logLikelihoods = await withEvalMode(model, () =>
    continuationLogLikelihoods(model, requests, {
      batchSize: options.batchSize ?? 8,
      maxLength: options.maxLength ?? model.config.maxPositionEmbeddings,
      padId: tokenizer.eosTokenId,
      onBatch: (done) => options.onProgress?.(done, total),
    }),
  );
  let offset = 0;
  const perItem = items.map((item): MultipleChoiceItemResult => {
    const scores = logLikelihoods.slice(offset, offset + item.choices.length);
    offset += item.choices.length;
    const normalised = scores.map((score, c) => score / [...item.choices[c]].length);
    return { source: item.source, answer: item.answer, logLikelihoods: scores, predicted: argmax(scores), predictedNorm: argmax(normalised) };
  });
  const acc = perItem.filter((item) => item.predicted === item.answer).length / items.length;
  const accNorm = perItem.filter((item) => item.predictedNorm === item.answer).length / items.length;
  return {
    task: taskFile,
    items: items.length,
    fewShot,
    seed,
    acc,
    accStderr: accuracyStderr(acc, items.length),
    accNorm,
    accNormStderr: accuracyStderr(accNorm, items.length),
    ...(options.perItem ? { perItem } : {}),
  };
}

/** The (context, continuation) token ids of every choice of every item, item by item, choice by choice. */
export function multipleChoiceRequests(items: readonly MultipleChoiceItem[], tokenizer: TokenEncoder, fewShot: number, seed: number): ContinuationRequest[] {
  return items.flatMap((item, index) => {
    const context = fewShotContext(items, index, fewShot, seed);
    return item.choices.map((choice) => encodeContinuation(tokenizer, context, TARGET_DELIMITER + choice));
  });
}
