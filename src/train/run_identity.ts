/**
 * What must match for a run to continue from a checkpoint: the model's config, the tokenizer, the data
 * (its size), the sequence length (packing), the seed (data order) and the optimizer kind (its state).
 * Anything else may change on resume: lr, schedule, steps, eval and save cadence, and the batch layout —
 * batch size, gradient accumulation and the number of ranks — since the saved data position counts
 * sequences and a distributed optimizer's state is saved whole.
 */
import type { CausalLM } from '../models/causal_lm';
import type { Tokenizer } from '../data/tokenizer';
import type { TokenDataset } from '../data/token_dataset';
import type { ResolvedTrainerOptions } from './trainer_options';

export interface RunIdentity {
  modelConfig: Record<string, unknown>;
  tokenizer: { name: string; fingerprint: string };
  seqLen: number;
  optimizer: string;
  seed: number;
  /** Tokens in the packed dataset: the saved data position only means something in the same data. */
  datasetTokens: number;
}

export function runIdentity(options: ResolvedTrainerOptions, model: CausalLM, tokenizer: Tokenizer, dataset: TokenDataset): RunIdentity {
  return {
    modelConfig: JSON.parse(JSON.stringify(model.config.hf)) as Record<string, unknown>,
    tokenizer: { name: tokenizer.name, fingerprint: tokenizer.fingerprint },
    seqLen: options.seqLen,
    optimizer: options.optimizer.type,
    seed: options.seed,
    datasetTokens: dataset.numTokens,
  };
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? 'undefined';
}

/** How a difference is named: the flag's name where there is one. */
const keyNames: Record<string, string> = { seqLen: 'seq_len', datasetTokens: 'dataset tokens', maxLength: 'max_length' };

/**
 * Human-readable differences ("seq_len 256 in the checkpoint, 128 now"); empty when compatible. Works for any
 * identity with a modelConfig and a tokenizer: every other key is compared as JSON.
 */
export function compatibilityProblems(saved: Record<string, unknown>, current: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const savedModel = (saved.modelConfig ?? {}) as Record<string, unknown>;
  const currentModel = (current.modelConfig ?? {}) as Record<string, unknown>;
  const keys = new Set([...Object.keys(savedModel), ...Object.keys(currentModel)]);
  const modelDifferences = [...keys].filter((key) => show(savedModel[key]) !== show(currentModel[key]));
  if (modelDifferences.length > 0) {
    const shown = modelDifferences.slice(0, 4).map((key) => `${key} ${show(savedModel[key])} vs ${show(currentModel[key])}`);
    problems.push(`the model differs (${shown.join(', ')}${modelDifferences.length > 4 ? ', …' : ''})`);
  }
  const savedTokenizer = saved.tokenizer as RunIdentity['tokenizer'] | undefined;
  const currentTokenizer = current.tokenizer as RunIdentity['tokenizer'] | undefined;
  if (savedTokenizer?.fingerprint !== currentTokenizer?.fingerprint) {
    problems.push(`the tokenizer differs ('${savedTokenizer?.name}' in the checkpoint, '${currentTokenizer?.name}' now)`);
  }
  const others = new Set([...Object.keys(saved), ...Object.keys(current)].filter((key) => key !== 'modelConfig' && key !== 'tokenizer'));
  for (const key of others) {
    if (show(saved[key]) !== show(current[key])) problems.push(`${keyNames[key] ?? key} ${show(saved[key])} in the checkpoint, ${show(current[key])} now`);
  }
  return problems;
}
