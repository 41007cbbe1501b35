/**
 * Fine-tuning a pretrained Hugging Face folder on chat data (what `moonlight train --from DIR` runs): SFT with
 * assistant-only loss (src/train/sft_data.ts), full fine-tuning or LoRA (src/models/lora.ts), freezing by name
 * pattern, Muon or AdamW over the trainable tensors only. Each optimizer step is one native job (the model's
 * trainStepAccumulated). The run folder gets run.json, metrics.jsonl, and at the end:
 *   model/    a complete Hugging Face folder (config, generation config, weights, the tokenizer files copied):
 *             the fine-tuned weights, with LoRA adapters merged in;
 *   adapter/  (LoRA) the adapters in PEFT's layout, for PeftModel.from_pretrained on the base folder.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../errors';
import { CausalLM } from '../models/causal_lm';
import { LoraOptions, saveLoraAdapter } from '../models/lora';
import { AdamW } from '../optim/adamw';
import { Muon } from '../optim/muon';
import type { Optimizer } from '../optim/optimizer';
import { ConstantLR, CosineWithWarmup, LrSchedule } from '../optim/schedule';
import { seededPermutation } from '../data/shuffle';
import { loadTokenizer, Tokenizer } from '../data/tokenizer';
import { chatTemplateFor, ChatMessage } from '../infer/chat_template';
import { tensor } from '../tensor/factories';
import { RunFolder, TrainMetricRecord } from './run_folder';
import { packSamples, padSamples, SftBatch, SftDataset, SftDatasetStats, SftTemplate } from './sft_data';

export interface FineTuneOptions {
  /** The Hugging Face model folder to start from (its weights, config, tokenizer and chat template). */
  from: string;
  /** Chat JSONL file (messages or alpaca records) or conversations. */
  dataset: string | ChatMessage[][];
  /** Run folder (created). */
  outDir: string;
  /** Default: the folder's own chat template (Moonlight's for Moonlight tiktoken folders). */
  template?: SftTemplate;
  /** Default: the folder's own tokenizer. */
  tokenizer?: Tokenizer;
  /** Tokens per sample; longer samples are truncated (and counted). Default 512. */
  maxLength?: number;
  /** Pack samples into rows of maxLength instead of padding each batch. Default false. */
  packing?: boolean;
  /** LoRA adapters (base weights frozen); unset or null: full fine-tuning. */
  lora?: LoraOptions | null;
  /** Freeze the tensors whose names match (RegExp or its source), e.g. 'embed_tokens', 'mlp\\.gate\\.'. */
  freeze?: Array<string | RegExp>;
  optimizer?: 'muon' | 'adamw';
  lr?: number;
  weightDecay?: number;
  schedule?: 'cosine' | 'constant';
  warmupSteps?: number;
  batchSize?: number;
  gradAccum?: number;
  /** Optimizer steps (default: epochs over the data). */
  maxSteps?: number;
  epochs?: number;
  maxGradNorm?: number | null;
  precision?: 'fp32' | 'bf16-mixed';
  seed?: number;
  /** Save the final model folder (default true). */
  saveModel?: boolean;
  onStep?: (record: FineTuneStepRecord) => void;
  /** Called once before the first step with what is trained. */
  onStart?: (info: FineTuneStartInfo) => void;
}

export interface FineTuneStepRecord extends TrainMetricRecord {
  totalSteps: number;
}

export interface FineTuneStartInfo {
  totalSteps: number;
  trainableParameters: number;
  frozen: string[];
  loraModules: string[];
  /** Bytes of optimizer state: only trainable tensors have any. */
  optimizerStateBytes: number;
  data: SftDatasetStats;
}

export interface FineTuneResult extends FineTuneStartInfo {
  runDir: string;
  steps: number;
  firstLoss: number;
  finalLoss: number;
  modelDir: string | null;
  adapterDir: string | null;
}

/** Tokenizer and template files a model folder may carry; copied next to the saved weights. */
const tokenizerFiles = [
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'tiktoken.model', 'tokenizer.model',
  'vocab.json', 'merges.txt', 'added_tokens.json', 'chat_template.jinja', 'chat_template.json',
  // Moonlight's remote-code tokenizer wrapper, which its tokenizer_config.json names
  'tokenization_moonshot.py',
];

export function copyTokenizerFiles(fromDir: string, toDir: string): string[] {
  const copied: string[] = [];
  for (const file of tokenizerFiles) {
    const source = path.join(fromDir, file);
    if (!fs.existsSync(source)) continue;
    fs.copyFileSync(source, path.join(toDir, file));
    copied.push(path.join(toDir, file));
  }
  return copied;
}

function integerOption(value: number | undefined, fallback: number, name: string, minimum: number): number {
  const resolved = value ?? fallback;
  if (!Number.isSafeInteger(resolved) || resolved < minimum) throw new ConfigError(`${name} is ${String(value)}; expected an integer >= ${minimum}`);
  return resolved;
}

function buildOptimizer(model: CausalLM, options: FineTuneOptions): Optimizer {
  const params = model.namedParameters({ expertStacks: true });
  if (params.size === 0) throw new ConfigError('nothing to train: every parameter is frozen');
  const common = { lr: options.lr ?? 1e-4, weightDecay: options.weightDecay ?? 0 };
  return (options.optimizer ?? 'muon') === 'muon' ? new Muon(params, common) : new AdamW(params, common);
}

function tensorBatch(batch: SftBatch): { inputIds: ReturnType<typeof tensor>; labels: ReturnType<typeof tensor>; attentionMask: ReturnType<typeof tensor> } {
  return {
    inputIds: tensor(batch.inputIds, { dtype: 'int64' }),
    labels: tensor(batch.labels, { dtype: 'int64' }),
    attentionMask: tensor(batch.attentionMask, { dtype: 'int64' }),
  };
}

export async function fineTune(options: FineTuneOptions): Promise<FineTuneResult> {
  const from = path.resolve(options.from);
  if (!fs.existsSync(path.join(from, 'config.json'))) throw new ConfigError(`--from ${options.from}: not a Hugging Face model folder (no config.json)`);
  const maxLength = integerOption(options.maxLength, 512, 'maxLength', 2);
  const batchSize = integerOption(options.batchSize, 4, 'batchSize', 1);
  const gradAccum = integerOption(options.gradAccum, 1, 'gradAccum', 1);
  const seed = integerOption(options.seed, 0, 'seed', 0);
  const tokenizer = options.tokenizer ?? await loadTokenizer(from);
  const template = options.template ?? chatTemplateFor(from);
  const dataset = typeof options.dataset === 'string'
    ? SftDataset.fromFile(options.dataset, { tokenizer, template, maxLength })
    : SftDataset.fromConversations(options.dataset, { tokenizer, template, maxLength });

  const model = await CausalLM.fromPretrained(from);
  const run = new RunFolder(options.outDir);
  let optimizer: Optimizer | null = null;
  try {
    const padId = model.config.padTokenId ?? tokenizer.eosTokenId;
    const frozen = (options.freeze ?? []).flatMap((pattern) => model.freeze(pattern));
    const loraModules = options.lora ? model.attachLora(options.lora) : [];
    model.train();
    optimizer = buildOptimizer(model, options);
    const trainable = model.namedParameters();
    const trainableParameters = [...trainable.values()].reduce((sum, t) => sum + t.numel, 0);
    trainable.forEach((t) => t.dispose());

    const samplesPerStep = batchSize * gradAccum;
    const stepsPerEpoch = Math.floor(dataset.samples.length / samplesPerStep);
    const totalSteps = options.maxSteps ?? Math.max(1, Math.floor(stepsPerEpoch * (options.epochs ?? 1)));
    if (!Number.isSafeInteger(totalSteps) || totalSteps < 1) throw new ConfigError(`maxSteps is ${String(options.maxSteps)}; expected a positive integer`);
    if (samplesPerStep > dataset.samples.length) {
      throw new ConfigError(`one step needs ${samplesPerStep} samples (batch ${batchSize} × grad_accum ${gradAccum}) but the dataset has ${dataset.samples.length}`);
    }
    const lr = options.lr ?? 1e-4;
    const warmupSteps = options.warmupSteps ?? Math.floor(totalSteps / 10);
    const schedule: LrSchedule = (options.schedule ?? 'cosine') === 'constant'
      ? new ConstantLR({ lr })
      : new CosineWithWarmup({ peakLr: lr, warmupSteps, totalSteps, minLr: 0 });
    const info: FineTuneStartInfo = {
      totalSteps, trainableParameters, frozen, loraModules, optimizerStateBytes: optimizer.stateBytes(), data: dataset.stats,
    };
    run.ensure();
    run.resetMetrics(0);
    const runInfo = {
      name: path.basename(run.path), kind: 'sft', createdAt: new Date().toISOString(), from,
      dataset: typeof options.dataset === 'string' ? path.resolve(options.dataset) : 'conversations', maxLength,
      packing: options.packing ?? false, lora: model.lora, optimizer: options.optimizer ?? 'muon', lr, batchSize, gradAccum, seed, ...info,
    };
    run.writeRun({ ...runInfo, status: 'running' });
    options.onStart?.(info);

    // Samples in a seeded order, epoch after epoch; each micro-batch padded (or packed) on its own.
    let epoch = 0;
    let order = seededPermutation(dataset.samples.length, seed, epoch);
    let cursor = 0;
    const nextSamples = (): typeof dataset.samples => {
      if (cursor + batchSize > order.length) {
        order = seededPermutation(dataset.samples.length, seed, ++epoch);
        cursor = 0;
      }
      const picked = Array.from(order.subarray(cursor, cursor + batchSize), (index) => dataset.samples[index]);
      cursor += batchSize;
      return picked;
    };
    let tokens = 0;
    let firstLoss = NaN;
    let finalLoss = NaN;
    const startedAt = process.hrtime.bigint();
    for (let step = 0; step < totalSteps; step++) {
      const stepLr = schedule.lrAt(step);
      optimizer.setLr(stepLr);
      const batches = Array.from({ length: gradAccum }, () => {
        const samples = nextSamples();
        return tensorBatch(options.packing ? packSamples(samples, maxLength, padId) : padSamples(samples, padId));
      });
      const stepStarted = process.hrtime.bigint();
      let metrics;
      try {
        metrics = await model.trainStepAccumulated(batches, optimizer, {
          precision: options.precision ?? 'fp32', maxGradNorm: options.maxGradNorm ?? undefined,
          // The routers' correction biases belong to the frozen base: an adapter folder could not carry their change.
          ...(options.lora ? { routerBiasUpdateRate: 0 } : {}),
        });
      } finally {
        batches.forEach((b) => Object.values(b).forEach((t) => t.dispose()));
      }
      const stepSeconds = Number(process.hrtime.bigint() - stepStarted) / 1e9;
      tokens += metrics.tokens;
      if (step === 0) firstLoss = metrics.lmLoss;
      finalLoss = metrics.lmLoss;
      const record: FineTuneStepRecord = {
        type: 'train', step: step + 1, epoch, tokens, flops: 0, loss: metrics.loss, lmLoss: metrics.lmLoss, auxLoss: metrics.auxLoss,
        lr: stepLr, gradNorm: metrics.gradNorm, clipCoefficient: metrics.clipCoefficient, tokensPerSecond: metrics.tokens / stepSeconds,
        stepSeconds, elapsedSeconds: Number(process.hrtime.bigint() - startedAt) / 1e9, totalSteps,
      };
      const { totalSteps: _total, ...line } = record;
      run.appendMetric(line);
      options.onStep?.(record);
    }

    let adapterDir: string | null = null;
    let modelDir: string | null = null;
    if (options.lora) {
      adapterDir = path.join(run.path, 'adapter');
      await saveLoraAdapter(model, adapterDir, { baseModelNameOrPath: from });
      copyTokenizerFiles(from, adapterDir);
    }
    if (options.saveModel ?? true) {
      if (options.lora) model.mergeLora();
      modelDir = path.join(run.path, 'model');
      await model.savePretrained(modelDir);
      copyTokenizerFiles(from, modelDir);
    }
    const result: FineTuneResult = { ...info, runDir: run.path, steps: totalSteps, firstLoss, finalLoss, modelDir, adapterDir };
    run.writeRun({ ...runInfo, status: 'completed', result });
    return result;
  } finally {
    run.close();
    optimizer?.dispose();
    model.dispose();
    if (options.tokenizer === undefined) tokenizer.dispose();
  }
}
