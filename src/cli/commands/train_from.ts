/**
 * `moonlight train --from DIR`: fine-tuning a Hugging Face folder on chat data (src/train/fine_tune.ts), with the
 * flags of ms-swift's `swift sft` where they make sense (--train_type, --lora_rank, --lora_alpha, --lora_dropout,
 * --target_modules, --freeze_parameters, --max_length, --packing), the rest shared with `moonlight train`: the run
 * is pre-training's loop (checkpoints, --resume, validation, diagnostics, Ctrl-C saving, `moonlight launch`).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Argv } from 'yargs';
import { ArgumentError } from '../../errors';
import { FineTuner } from '../../train/fine_tune';
import { attachProgress } from '../../train/progress';
import { writeRunPlots } from '../../plot/run_plots';

export interface TrainFromArgs {
  from?: string;
  train_type: 'lora' | 'full';
  lora_rank: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: string[];
  freeze_parameters?: string[];
  max_length: number;
  packing: boolean;
}

export function addFineTuneOptions<T>(y: Argv<T>): Argv<T & TrainFromArgs> {
  return y
    .option('from', { type: 'string', describe: 'Fine-tune this Hugging Face model folder on --dataset (a chat / alpaca .jsonl) instead of pre-training' })
    .option('train_type', { choices: ['lora', 'full'] as const, describe: "With --from: 'lora' (default when --lora_rank is given) or 'full' fine-tuning" })
    .option('lora_rank', { type: 'number', default: 8, describe: 'LoRA rank r' })
    .option('lora_alpha', { type: 'number', default: 32, describe: 'LoRA α (updates scaled by α/r)' })
    .option('lora_dropout', { type: 'number', default: 0.05, describe: 'Dropout on the LoRA input' })
    .option('target_modules', { type: 'string', array: true, default: ['all-linear'], describe: "'all-linear' or module names (q_proj, kv_b_proj, gate_proj, experts.down_proj, …)" })
    .option('freeze_parameters', { type: 'string', array: true, describe: 'Freeze parameters whose names match these regular expressions (e.g. embed_tokens mlp\\.gate\\.)' })
    .option('max_length', { type: 'number', default: 512, describe: 'With --from: tokens per sample; longer samples are truncated (and counted)' })
    .option('packing', { type: 'boolean', default: false, describe: 'With --from: pack samples into max_length rows instead of padding' }) as unknown as Argv<T & TrainFromArgs>;
}

/** `train --from`'s peak lr (the pre-training default is higher: see train.ts). */
export const FINE_TUNING_DEFAULT_LR = 1e-3;

/** The flags `train` and `train --from` share: data, optimizer and schedule, batches, evaluation, checkpoints, logging. */
export interface TrainRunArgs {
  dataset: string[];
  tokenizer?: string;
  optimizer: 'muon' | 'adamw';
  lr?: number;
  wd: number;
  schedule: 'cosine' | 'wsd' | 'constant';
  warmup?: number;
  min_lr?: number;
  steps?: number;
  epochs?: number;
  batch_size: number;
  grad_accum: number;
  clip?: number;
  precision: 'fp32' | 'bf16-mixed';
  seed: number;
  eval_every: number;
  val_fraction?: number;
  eval_batches: number;
  save_every: number;
  keep_last: number;
  out?: string;
  resume?: string;
  plot: boolean;
  log_every?: number;
  diagnostics_every: number;
}

/** The flags the user wrote (`--name`, `--name=value`, `--no-name`), which yargs does not tell from defaults. */
export function givenFlags(argv: readonly string[]): Set<string> {
  return new Set(argv.filter((arg) => arg.startsWith('--')).map((arg) => arg.slice(2).split('=')[0].replace(/^no-/, '')));
}

/** The run folder the flags name: --out, else the --resume folder when it is a run folder (not one of its checkpoints). */
export function namedRunFolder(args: Pick<TrainRunArgs, 'out' | 'resume'>): string | undefined {
  if (args.out !== undefined) return args.out;
  if (args.resume !== undefined && fs.existsSync(path.join(args.resume, 'run.json'))) return args.resume;
  return undefined;
}

/** The run folder: the one the flags name, else runs/<model>_sft_<type>_<optimizer>. */
function runFolder(args: TrainFromArgs & TrainRunArgs, trainType: string): string {
  return namedRunFolder(args) ?? path.resolve('runs', `${path.basename(path.resolve(args.from!))}_sft_${trainType}_${args.optimizer}`);
}

export async function runFineTuneCommand(args: TrainFromArgs & TrainRunArgs, given: Set<string>, signal: AbortSignal): Promise<void> {
  const from = args.from!;
  if (args.dataset.length !== 1 || !args.dataset[0].endsWith('.jsonl')) {
    throw new ArgumentError('--from fine-tunes on one chat dataset: pass --dataset FILE.jsonl (messages or instruction/output records)');
  }
  const trainType = args.train_type ?? (given.has('lora_rank') ? 'lora' : 'full');
  const targets = args.target_modules.length === 1 && args.target_modules[0] === 'all-linear' ? 'all-linear' as const : args.target_modules;
  const outDir = runFolder(args, trainType);
  const tuner = new FineTuner({
    from, dataset: args.dataset[0], outDir, tokenizer: args.tokenizer, maxLength: args.max_length, packing: args.packing,
    lora: trainType === 'lora' ? { rank: args.lora_rank, alpha: args.lora_alpha, dropout: args.lora_dropout, targetModules: targets, seed: args.seed } : null,
    freeze: args.freeze_parameters, optimizer: args.optimizer, lr: args.lr ?? FINE_TUNING_DEFAULT_LR, weightDecay: args.wd,
    schedule: args.schedule, warmupSteps: args.warmup, minLr: args.min_lr, batchSize: args.batch_size, gradAccum: args.grad_accum,
    maxSteps: args.steps, epochs: args.epochs, maxGradNorm: args.clip ?? null, precision: args.precision, seed: args.seed,
    evalEvery: args.eval_every, validationFraction: args.val_fraction, evalBatches: args.eval_batches, saveEvery: args.save_every, keepLast: args.keep_last,
    resume: args.resume ?? false, signal, diagnosticsEvery: args.diagnostics_every,
  });
  const leader = (process.env.RANK ?? '0') === '0';
  const detach = leader ? attachProgress(tuner, { logEvery: args.log_every }) : () => undefined;
  try {
    await tuner.setup();
    const info = tuner.startInfo;
    const d = info.data;
    process.stdout.write(
      `fine-tuning ${from} (${trainType}${info.loraModules.length > 0 ? `, LoRA on ${info.loraModules.length} modules` : ''}), ${info.totalSteps} steps\n` +
        `data: ${d.conversations} conversations, ${d.tokens} tokens (${d.assistantTokens} learned), ${d.truncated} truncated to ${args.max_length}` +
        `${d.droppedNoAssistant > 0 ? `, ${d.droppedNoAssistant} dropped (no assistant token left)` : ''}` +
        `${info.validationSamples > 0 ? `, ${info.validationSamples} held out for validation` : ''}\n` +
        `tokenizer: ${tuner.tokenizer.name}\n` +
        `weights: ${info.loraModules.length > 0 ? `${info.weightsDtype} frozen base, float32 adapters` : `${info.weightsDtype} master weights`}\n` +
        `trainable parameters: ${info.trainableParameters.toLocaleString('en-US')}` +
        `${info.frozen.length > 0 ? ` (${info.frozen.length} tensors frozen)` : ''}\n` +
        `optimizer state: ${info.optimizerStateBytes.toLocaleString('en-US')} bytes (${args.optimizer}, trainable parameters only)\n` +
        `run folder: ${tuner.runDir}\n`,
    );
    const result = await tuner.fit();
    detach();
    const lines = [
      `${result.status === 'completed' ? 'finished' : 'stopped'} at step ${result.steps}/${result.totalSteps}: ` +
        `assistant-token loss ${result.firstLoss.toFixed(4)} -> ${result.finalLoss.toFixed(4)}` +
        `${result.valLoss === null ? '' : `, val loss ${result.valLoss.toFixed(4)}`}`,
      `checkpoint: ${result.checkpoint ?? '(none)'}`,
    ];
    if (result.adapterDir) lines.push(`adapter: ${result.adapterDir}`);
    if (result.modelDir) lines.push(`model: ${result.modelDir}`);
    if (args.plot && leader) {
      const written = await writeRunPlots(result.runDir);
      for (const file of written) lines.push(`${file.endsWith('.html') ? 'report' : 'plot'}: ${file}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    detach();
    tuner.dispose();
  }
}
