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

/** Human-readable differences ("seq_len 256 in the checkpoint, 128 now"); empty when compatible. */
export function compatibilityProblems(saved: RunIdentity, current: RunIdentity): string[] {
  const problems: string[] = [];
  const keys = new Set([...Object.keys(saved.modelConfig), ...Object.keys(current.modelConfig)]);
  const modelDifferences = [...keys].filter((key) => show(saved.modelConfig[key]) !== show(current.modelConfig[key]));
  if (modelDifferences.length > 0) {
    const shown = modelDifferences.slice(0, 4).map((key) => `${key} ${show(saved.modelConfig[key])} vs ${show(current.modelConfig[key])}`);
    problems.push(`the model differs (${shown.join(', ')}${modelDifferences.length > 4 ? ', …' : ''})`);
  }
  if (saved.tokenizer.fingerprint !== current.tokenizer.fingerprint) {
    problems.push(`the tokenizer differs ('${saved.tokenizer.name}' in the checkpoint, '${current.tokenizer.name}' now)`);
  }
  const scalars: Array<[keyof RunIdentity, string]> = [
    ['seqLen', 'seq_len'], ['optimizer', 'optimizer'], ['seed', 'seed'],
    ['datasetTokens', 'dataset tokens'],
  ];
  for (const [key, flag] of scalars) {
    if (saved[key] !== current[key]) problems.push(`${flag} ${show(saved[key])} in the checkpoint, ${show(current[key])} now`);
  }
  return problems;
}
