/**
 * What a Trainer builds before its first step: the tokenizer, the packed token dataset, the model, the
 * optimizer and the lr schedule, each from the resolved options, with errors that name the option and
 * the fix.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../errors';
import { CausalLM } from '../models/causal_lm';
import { AdamW } from '../optim/adamw';
import { Muon } from '../optim/muon';
import type { Optimizer } from '../optim/optimizer';
import type { ParamGroup } from '../optim/parameters';
import type { Tensor } from '../tensor/tensor';
import { native } from '../native';
import { ConstantLR, CosineWithWarmup, LrSchedule, WarmupStableDecay } from '../optim/schedule';
import { loadTokenizer, Tokenizer } from '../data/tokenizer';
import { folderHasTokenizer } from './tokenizer_files';
import { isModelPreset, MODEL_PRESETS, presetConfig } from './model_presets';
import type { ResolvedTrainerOptions } from './trainer_options';

/** Embedding rows are padded to a multiple of this (as Qwen's 151,936 rows for 151,665 tokens). */
const vocabPaddingMultiple = 64;

/** The tokenizer asked for; without one, a Hugging Face model folder's own (else the byte tokenizer). */
export async function resolveTokenizer(options: ResolvedTrainerOptions): Promise<Tokenizer> {
  const spec = options.tokenizer;
  if (spec !== undefined) return typeof spec === 'string' ? loadTokenizer(spec) : spec;
  const model = options.model;
  if (typeof model === 'string' && folderHasTokenizer(model)) return loadTokenizer(model);
  return loadTokenizer('byte');
}

export interface BuiltModel {
  model: CausalLM;
  /** 'moonlight-tiny', a config path, a model folder, 'config object' or 'CausalLM instance'. */
  source: string;
  /** True when the weights came from a checkpoint folder rather than a fresh initialisation. */
  pretrained: boolean;
}

export async function buildModel(options: ResolvedTrainerOptions, tokenizer: Tokenizer): Promise<BuiltModel> {
  const spec = options.model;
  let built: BuiltModel;
  if (spec instanceof CausalLM) {
    built = { model: spec, source: 'CausalLM instance', pretrained: true };
  } else if (typeof spec === 'object') {
    built = { model: await CausalLM.create(spec, { seed: options.seed }), source: 'config object', pretrained: false };
  } else if (isModelPreset(spec)) {
    const config = presetConfig(spec, {
      vocabSize: Math.ceil(tokenizer.vocabSize / vocabPaddingMultiple) * vocabPaddingMultiple,
      maxPositions: options.seqLen,
      ...options.modelSize,
    });
    built = { model: await CausalLM.create(config, { seed: options.seed }), source: spec, pretrained: false };
  } else if (fs.existsSync(spec) && fs.statSync(spec).isDirectory()) {
    built = { model: await CausalLM.fromPretrained(spec, { dtype: 'float32' }), source: path.resolve(spec), pretrained: true };
  } else if (fs.existsSync(spec) && spec.endsWith('.json')) {
    let config: Record<string, unknown>;
    try {
      config = JSON.parse(fs.readFileSync(spec, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`${spec} is not valid JSON (${(error as Error).message}); expected a model config.json`);
    }
    built = { model: await CausalLM.create(config, { seed: options.seed }), source: path.resolve(spec), pretrained: false };
  } else {
    throw new ConfigError(
      `unknown model '${spec}': expected ${MODEL_PRESETS.join(', ')}, the path of a config.json, or a Hugging Face model folder`,
    );
  }
  checkVocabulary(built.model, tokenizer);
  return built;
}

function checkVocabulary(model: CausalLM, tokenizer: Tokenizer): void {
  const rows = model.config.vocabSize;
  if (tokenizer.eosTokenId >= rows || tokenizer.vocabSize > rows + 256) {
    throw new ConfigError(
      `the tokenizer '${tokenizer.name}' has ${tokenizer.vocabSize} ids (EOS ${tokenizer.eosTokenId}) but the model's vocab_size is ` +
        `${rows}: use the model's own tokenizer (--tokenizer) or a model preset, whose vocabulary follows the tokenizer`,
    );
  }
}

export interface OptimizerChoice {
  optimizer: ResolvedTrainerOptions['optimizer'];
  lr: number;
  weightDecay: number;
  distributed: ResolvedTrainerOptions['distributed'];
  updateScaleByMatrixType?: Record<string, number>;
}

/** The param group of the parameters whose update is scaled by updateScaleByMatrixType[type]. */
export const scaledGroupName = (type: string): string => `update-scale:${type}`;

/** Each listed matrix type's group and its factor, for the loop to set the group's lr to factor × the schedule's. */
export function groupLrScales(options: Pick<OptimizerChoice, 'updateScaleByMatrixType'>): Array<{ group: string; scale: number }> {
  return Object.entries(options.updateScaleByMatrixType ?? {}).map(([type, scale]) => ({ group: scaledGroupName(type), scale }));
}

/**
 * The parameters split by updateScaleByMatrixType: one group per listed type with lr k·lr and weight decay
 * wd/k (the decay step lr·wd is unchanged, only the update is k times larger), the rest in 'default'.
 */
function scaledParamGroups(params: Map<string, Tensor>, options: OptimizerChoice): ParamGroup[] {
  const scales = options.updateScaleByMatrixType ?? {};
  const byGroup = new Map<string, Map<string, Tensor>>();
  for (const [name, tensor] of params) {
    const type = native().matrixType(name);
    const group = scales[type] !== undefined ? scaledGroupName(type) : 'default';
    if (!byGroup.has(group)) byGroup.set(group, new Map());
    byGroup.get(group)!.set(name, tensor);
  }
  const missing = Object.keys(scales).filter((type) => !byGroup.has(scaledGroupName(type)));
  if (missing.length > 0) {
    throw new ConfigError(`updateScaleByMatrixType names matrix types the model does not have: ${missing.join(', ')}`);
  }
  return [...byGroup.entries()].map(([name, groupParams]) => {
    const type = name === 'default' ? undefined : name.slice(scaledGroupName('').length);
    if (type === undefined) return { name, params: groupParams };
    return { name, params: groupParams, lr: options.lr * scales[type], weightDecay: options.weightDecay / scales[type] };
  });
}

/** Muon or AdamW over the model's trainable tensors; ZeRO-1 / whole-matrix across ranks when distributed. */
export function buildOptimizer(options: OptimizerChoice, model: CausalLM, worldSize: number): Optimizer {
  // Expert stacks [E, out, in] go to the optimizer whole: Muon orthogonalises them per expert, batched.
  const params = model.namedParameters({ expertStacks: true });
  if (params.size === 0) throw new ConfigError('nothing to train: every parameter is frozen');
  const common = {
    lr: options.lr, weightDecay: options.weightDecay,
    ...(worldSize > 1 && options.distributed !== 'off' ? { distributed: { mode: options.distributed } } : {}),
  };
  const grouped = Object.keys(options.updateScaleByMatrixType ?? {}).length > 0 ? scaledParamGroups(params, options) : params;
  return options.optimizer.type === 'muon'
    ? new Muon(grouped, { ...options.optimizer.options, ...common })
    : new AdamW(grouped, { ...options.optimizer.options, ...common });
}

export type ScheduleChoice = Pick<ResolvedTrainerOptions, 'schedule' | 'warmupSteps' | 'lr' | 'minLr' | 'decayFraction'>;

export function buildSchedule(options: ScheduleChoice, totalSteps: number): LrSchedule {
  if (typeof options.schedule === 'object') return options.schedule;
  // toy_train warms up for 100 steps; a shorter run warms up for its first tenth instead of never peaking.
  const warmupSteps = options.warmupSteps ?? Math.min(100, Math.floor(totalSteps / 10));
  if (warmupSteps > totalSteps) {
    throw new ConfigError(`warmup of ${warmupSteps} steps is longer than the run (${totalSteps} steps): lower --warmup or raise --steps`);
  }
  switch (options.schedule) {
    case 'constant':
      return new ConstantLR({ lr: options.lr });
    case 'cosine':
      return new CosineWithWarmup({ peakLr: options.lr, warmupSteps, totalSteps, minLr: options.minLr ?? 0 });
    case 'wsd': {
      const decaySteps = Math.round((totalSteps - warmupSteps) * options.decayFraction);
      const minLr = options.minLr ?? options.lr / 10;
      return new WarmupStableDecay({
        peakLr: options.lr, warmupSteps, decaySteps, stableSteps: totalSteps - warmupSteps - decaySteps,
        decayShape: '1-sqrt', minLrRatio: options.lr === 0 ? 0 : minLr / options.lr,
      });
    }
  }
}

/** Optimizer steps of the run: the first of maxSteps / maxTokens / epochs reached (one epoch by default). */
export function plannedSteps(options: ResolvedTrainerOptions, trainSequences: number, worldSize: number): number {
  const sequencesPerStep = options.batchSize * options.gradAccum * worldSize;
  const tokensPerStep = sequencesPerStep * options.seqLen;
  const candidates: number[] = [];
  if (options.maxSteps !== undefined) candidates.push(options.maxSteps);
  if (options.maxTokens !== undefined) candidates.push(Math.ceil(options.maxTokens / tokensPerStep));
  if (options.epochs !== undefined || candidates.length === 0) {
    const stepsPerEpoch = Math.floor(trainSequences / sequencesPerStep);
    if (stepsPerEpoch === 0) {
      throw new ConfigError(
        `one step needs ${sequencesPerStep} sequences (batch ${options.batchSize} × grad_accum ${options.gradAccum} × ${worldSize} ranks) but the ` +
          `training split has ${trainSequences}: lower --batch_size / --seq_len, or use more data`,
      );
    }
    candidates.push(Math.max(1, Math.floor(stepsPerEpoch * (options.epochs ?? 1))));
  }
  return Math.min(...candidates);
}
