import * as path from 'path';
import type { Argv, CommandModule } from 'yargs';
import { ArgumentError } from '../../errors';
import { attachProgress, formatDuration } from '../../train/progress';
import { isModelPreset, MODEL_PRESETS } from '../../train/model_presets';
import { Trainer } from '../../train/trainer';
import type { TrainerOptions } from '../../train/trainer_options';
import { writeRunPlots } from '../../plot/run_plots';
import { addFineTuneOptions, FINE_TUNING_DEFAULT_LR, givenFlags, namedRunFolder, runFineTuneCommand, TrainFromArgs, TrainRunArgs } from './train_from';

/** `train`'s flags: the shared ones, and those of pre-training only (PRE_TRAINING_ONLY_FLAGS). */
interface TrainArgs extends TrainRunArgs {
  model: string;
  text_field: string;
  hidden_size?: number;
  num_layers?: number;
  intermediate_size?: number;
  num_heads?: number;
  max_tokens?: number;
  seq_len: number;
  cache_dir?: string;
  qk_clip?: number;
  qk_clip_alpha: number;
  qk_clip_remeasure: boolean;
  sample_prompt?: string;
  sample_tokens: number;
}

const sizeFlags = ['hidden_size', 'num_layers', 'intermediate_size', 'num_heads'] as const;

/**
 * Pre-training's peak lr per optimizer, from an lr sweep of the main job (moonlight-tiny, one epoch of the
 * embedded corpus, batch 16 × 256; README "On a fresh machine"): toy_train.py's 1e-3 left that run at 2.35
 * nats/byte. Tuned for the small presets; wider models want smaller rates.
 */
export const PRETRAINING_DEFAULT_LR = { muon: 2e-2, adamw: 5e-3 } as const;
/**
 * Flags of `train` that fine-tuning (`--from`) does not take: given with --from they are errors, never
 * silently ignored. (The model is the folder; fine-tuning's length is --max_length; chat data has no text field
 * or token cache.)
 */
const PRE_TRAINING_ONLY_FLAGS = [
  'model', 'text_field', 'hidden_size', 'num_layers', 'intermediate_size', 'num_heads',
  'max_tokens', 'seq_len', 'cache_dir', 'qk_clip', 'qk_clip_alpha', 'qk_clip_remeasure',
  'sample_prompt', 'sample_tokens',
] as const;
/** Flags that only fine-tuning takes: without --from they are errors. */
const FINE_TUNING_ONLY_FLAGS = [
  'train_type', 'lora_rank', 'lora_alpha', 'lora_dropout', 'target_modules', 'freeze_parameters', 'max_length', 'packing',
] as const;

const MOBY_DICK_PROMPT = 'Call me Ishmael.';
const OTHER_PROMPT = 'The';

/** A short seeded-sampling continuation from the trained model: what the run learned, in its own words. */
async function sampleText(trainer: Trainer, args: TrainArgs): Promise<string> {
  const prompt = args.sample_prompt ?? (args.dataset.length === 1 && args.dataset[0] === 'moby-dick' ? MOBY_DICK_PROMPT : OTHER_PROMPT);
  const tokenizer = trainer.tokenizer;
  const result = await trainer.model.eval().generate([tokenizer.encode(prompt)], {
    maxNewTokens: args.sample_tokens, temperature: 0.8, seed: args.seed, stopTokenIds: [],
  });
  // A model's vocabulary may be padded past the tokenizer's (the byte presets round it up): an id the
  // tokenizer cannot decode, which a barely trained model can still sample, shows as U+FFFD.
  const runs: number[][] = [[]];
  for (const id of result.tokens[0]) {
    if (id < tokenizer.vocabSize) runs[runs.length - 1].push(id);
    else runs.push([]);
  }
  return `${prompt}${runs.map((run) => tokenizer.decode(run)).join('\uFFFD')}`;
}

function builder(y: Argv): Argv<TrainArgs> {
  return addFineTuneOptions(y)
    .option('model', {
      type: 'string', default: 'moonlight-tiny',
      describe: `${MODEL_PRESETS.join(' | ')} (fresh weights sized by the size flags), a config.json (fresh weights) or a Hugging Face model folder (its weights)`,
    })
    .option('optimizer', { choices: ['muon', 'adamw'] as const, default: 'muon' as const, describe: 'Muon (matrices; its AdamW for the rest) or AdamW for everything' })
    .option('dataset', {
      type: 'string', array: true, default: ['moby-dick'],
      describe: "'moby-dick' (embedded), 'openwebtext-100k' (from the local Hugging Face cache), or text / .jsonl / .parquet files or folders",
    })
    .option('tokenizer', {
      type: 'string',
      describe: "'byte', 'gpt2', 'cl100k_base', …, or a tiktoken.model / tokenizer.json file or folder [default: a model folder's own tokenizer, else byte]",
    })
    .option('text_field', { type: 'string', default: 'text', describe: 'JSONL field / parquet column holding the text' })
    .option('hidden_size', { type: 'number', describe: 'Model width of a preset (qwen/llama/moonlight: 1024, moonlight-tiny: 128)' })
    .option('num_layers', { type: 'number', describe: 'Layers of a preset (12; moonlight-tiny: 4)' })
    .option('intermediate_size', { type: 'number', describe: 'Dense MLP width of a preset (qwen: 4864 as toy_train)' })
    .option('num_heads', { type: 'number', describe: 'Attention heads of a preset (16; moonlight-tiny: 4)' })
    .option('lr', { type: 'number', describe: `Peak learning rate [default: pre-training ${PRETRAINING_DEFAULT_LR.muon} with Muon, ${PRETRAINING_DEFAULT_LR.adamw} with AdamW; ${FINE_TUNING_DEFAULT_LR} with --from]` })
    .option('wd', { type: 'number', default: 0.1, describe: 'Decoupled weight decay (really applied, unlike toy_train.py)' })
    .option('schedule', { choices: ['cosine', 'wsd', 'constant'] as const, default: 'cosine' as const, describe: 'LR schedule: cosine with linear warmup (to --min_lr), warmup-stable-decay, or constant' })
    .option('warmup', { type: 'number', describe: 'Warmup steps (default 100 as toy_train, or a tenth of a shorter run)' })
    .option('min_lr', { type: 'number', describe: 'Final lr (cosine default 0; wsd default lr/10)' })
    .option('steps', { type: 'number', describe: 'Optimizer steps (default: one epoch, or what --max_tokens / --epochs give)' })
    .option('max_tokens', { type: 'number', describe: 'Stop after this many training tokens' })
    .option('epochs', { type: 'number', describe: 'Passes over the training split (default 1 when no --steps / --max_tokens)' })
    .option('batch_size', { type: 'number', default: 16, describe: 'Sequences per micro-batch' })
    .option('seq_len', { type: 'number', default: 256, describe: 'Tokens per sequence (toy_train: 512)' })
    .option('grad_accum', { type: 'number', default: 1, describe: 'Micro-batches per optimizer step' })
    .option('clip', { type: 'number', describe: 'Clip the global gradient norm (raw gradients, before Muon); default none' })
    .option('precision', { choices: ['fp32', 'bf16-mixed'] as const, default: 'fp32' as const, describe: 'fp32, or bf16 autocast over fp32 master weights' })
    .option('seed', { type: 'number', default: 0, describe: 'Seed of the weights and the data order' })
    .option('eval_every', { type: 'number', default: 50, describe: 'Evaluate on the validation split every N steps and at the end (0: never; with --from: only when given, on held-out conversations)' })
    .option('val_fraction', { type: 'number', describe: 'Fraction of sequences (with --from: of conversations) held out for validation (default 0.05 when evaluating)' })
    .option('eval_batches', { type: 'number', default: 20, describe: 'At most this many validation batches per evaluation' })
    .option('save_every', { type: 'number', default: 0, describe: 'Checkpoint every N steps (always at the end; 0: only at the end)' })
    .option('keep_last', { type: 'number', default: 3, describe: 'Keep only the newest N checkpoints' })
    .option('out', { type: 'string', describe: 'Run folder (default runs/<model>_<optimizer>_lr<lr>)' })
    .option('resume', { type: 'string', describe: 'Continue from the newest checkpoint of this run folder (or this checkpoint folder)' })
    .option('cache_dir', { type: 'string', describe: 'Token cache folder (default $MOONLIGHT_CACHE_DIR or ~/.cache/moonlight-torch/tokens)' })
    .option('sample_prompt', { type: 'string', describe: `Prompt of the sample continuation printed at the end [default: "${MOBY_DICK_PROMPT}" on the embedded corpus, else "${OTHER_PROMPT}"]` })
    .option('sample_tokens', { type: 'number', default: 200, describe: 'Tokens of that sample (seeded sampling, temperature 0.8; 0: no sample)' })
    .option('plot', { type: 'boolean', default: true, describe: 'Write loss plots and report.html into the run folder at the end' })
    .option('log_every', { type: 'number', describe: 'Without a TTY: a log line every N steps (default ~20 lines per run)' })
    .option('diagnostics_every', { type: 'number', default: 10, describe: 'Log update/weight RMS per matrix type, max attention logits and router balance every N steps (0: never; with --from: only when given)' })
    .option('qk_clip', { type: 'number', describe: 'QK-Clip threshold τ (MLA models): rescale q/k of heads whose max logit exceeds it after each step (Kimi K2: 100)' })
    .option('qk_clip_alpha', { type: 'number', default: 0.5, describe: 'QK-Clip α: q_nope ×η^α, k_nope ×η^(1−α), q_pe ×η' })
    .option('qk_clip_remeasure', { type: 'boolean', default: false, describe: "QK-Clip from logits re-measured after the update (≤ τ guaranteed on the step's batch; 1–2 extra forwards)" })
    .example('$0 train', 'a small Moonlight-style MoE with Muon on the embedded Moby-Dick corpus')
    .example('$0 train --model qwen --optimizer muon --hidden_size 128 --num_layers 2 --steps 200', "toy_train.py's model, narrow")
    .example('$0 train --from ./Moonlight-16B-A3B-Instruct --dataset chat.jsonl --lora_rank 8 --lora_alpha 32 --target_modules all-linear --optimizer muon', 'LoRA chat SFT with Muon')
    .example('$0 train --resume runs/moonlight-tiny_muon_lr0.02', 'continue a run from its newest checkpoint') as unknown as Argv<TrainArgs>;
}

/** Flag values the Trainer cannot check (they are CLI-only combinations). */
function checkFlags(args: TrainArgs): void {
  if (!isModelPreset(args.model)) {
    const given = sizeFlags.filter((flag) => args[flag] !== undefined);
    if (given.length > 0) {
      throw new ArgumentError(
        `--${given.join(', --')} size a model preset, but --model ${args.model} is a config or folder that fixes the size: drop them or pick a preset (${MODEL_PRESETS.join(', ')})`,
      );
    }
  }
  if (args.eval_every > 0 && args.val_fraction === 0) {
    throw new ArgumentError('--eval_every needs a validation split but --val_fraction is 0: set --eval_every 0 or --val_fraction above 0');
  }
  if (args.out !== undefined && args.resume !== undefined && path.resolve(args.out) !== path.resolve(args.resume) &&
      !path.resolve(args.resume).startsWith(path.resolve(args.out) + path.sep)) {
    throw new ArgumentError(`--out ${args.out} and --resume ${args.resume} name different runs: give only --resume to continue that run`);
  }
  for (const flag of ['batch_size', 'seq_len', 'grad_accum', 'sample_tokens', 'steps', 'eval_every', 'save_every', 'keep_last', 'warmup'] as const) {
    const value = args[flag];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new ArgumentError(`--${flag} is ${String(value)}; expected a whole number`);
    }
  }
}

function trainerOptions(args: TrainArgs, signal: AbortSignal): TrainerOptions {
  return {
    model: args.model,
    modelSize: { hiddenSize: args.hidden_size, numLayers: args.num_layers, intermediateSize: args.intermediate_size, numHeads: args.num_heads },
    tokenizer: args.tokenizer,
    dataset: args.dataset.length === 1 ? args.dataset[0] : args.dataset,
    textField: args.text_field,
    cacheDir: args.cache_dir,
    optimizer: args.optimizer,
    lr: args.lr ?? PRETRAINING_DEFAULT_LR[args.optimizer],
    weightDecay: args.wd,
    schedule: args.schedule,
    warmupSteps: args.warmup,
    minLr: args.min_lr,
    batchSize: args.batch_size,
    seqLen: args.seq_len,
    gradAccum: args.grad_accum,
    maxGradNorm: args.clip ?? null,
    precision: args.precision,
    seed: args.seed,
    maxSteps: args.steps,
    maxTokens: args.max_tokens,
    epochs: args.epochs,
    evalEvery: args.eval_every,
    validationFraction: args.val_fraction,
    evalBatches: args.eval_batches,
    saveEvery: args.save_every,
    keepLast: args.keep_last,
    outDir: namedRunFolder(args),
    resume: args.resume ?? false,
    signal,
    diagnosticsEvery: args.diagnostics_every,
    qkClip: args.qk_clip === undefined ? null : { threshold: args.qk_clip, alpha: args.qk_clip_alpha, remeasure: args.qk_clip_remeasure },
  };
}

/** `moonlight train`: Moonlight's examples/toy_train.py as a command, on any of our models and data. */
export const trainCommand: CommandModule<object, TrainArgs & Partial<TrainFromArgs>> = {
  command: 'train',
  describe: 'Train a model (default: a small Moonlight-style MoE with Muon on the embedded corpus)',
  builder,
  handler: async (args) => {
    const given = givenFlags(process.argv);
    if (args.from !== undefined) {
      const misplaced = PRE_TRAINING_ONLY_FLAGS.filter((flag) => given.has(flag));
      if (misplaced.length > 0) {
        throw new ArgumentError(`--${misplaced.join(', --')} ${misplaced.length === 1 ? 'applies' : 'apply'} to pre-training only, not to fine-tuning with --from`);
      }
      // Evaluation and diagnostics cost time a fine-tuning did not ask for: on when their flags are given.
      if (!given.has('eval_every')) args.eval_every = 0;
      if (!given.has('diagnostics_every')) args.diagnostics_every = 0;
    } else {
      const fineTuningOnly = FINE_TUNING_ONLY_FLAGS.filter((flag) => given.has(flag));
      if (fineTuningOnly.length > 0) {
        throw new ArgumentError(`--${fineTuningOnly.join(', --')} ${fineTuningOnly.length === 1 ? 'applies' : 'apply'} to fine-tuning only: add --from MODEL_FOLDER`);
      }
    }
    checkFlags(args);
    const abort = new AbortController();
    let interrupts = 0;
    const onSignal = (): void => {
      interrupts++;
      if (interrupts === 1) {
        process.stderr.write('\nstopping after this step and saving a checkpoint (Ctrl-C again to quit at once)\n');
        abort.abort();
      } else {
        process.exit(130);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      if (args.from !== undefined) await runFineTuneCommand(args as TrainArgs & TrainFromArgs, given, abort.signal);
      else await pretrain(args, abort.signal);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

/** `moonlight train` without --from. */
async function pretrain(args: TrainArgs, signal: AbortSignal): Promise<void> {
  const trainer = new Trainer(trainerOptions(args, signal));
  // Under `moonlight launch` every rank runs this command; one progress display (rank 0's) is enough.
  const leader = (process.env.RANK ?? '0') === '0';
  const detach = leader ? attachProgress(trainer, { logEvery: args.log_every }) : () => undefined;
  try {
    await trainer.setup();
    const model = trainer.model;
    process.stdout.write(
      `model ${model.config.modelType} (${(model.numParameters() / 1e6).toFixed(2)}M parameters, ` +
        `${(model.numParameters({ activatedOnly: true }) / 1e6).toFixed(2)}M activated, ${model.dtype} master weights), optimizer ${args.optimizer}, ` +
        `tokenizer ${trainer.tokenizer.name}, ${trainer.dataset.numTokens.toLocaleString('en-US')} tokens, ${trainer.totalSteps} steps\n` +
        `run folder: ${trainer.runDir}\n`,
    );
    const result = await trainer.fit();
    detach();
    const lines = [
      `${result.status === 'completed' ? 'finished' : 'stopped'} at step ${result.steps}/${result.totalSteps} in ${formatDuration(result.elapsedSeconds)}: ` +
        `loss ${result.finalLoss?.toFixed(4) ?? '-'}${result.valLoss === null ? '' : `, val loss ${result.valLoss.toFixed(4)}`}`,
      `checkpoint: ${result.checkpoint ?? '(none)'}`,
      `metrics: ${path.join(result.runDir, 'metrics.jsonl')}`,
    ];
    if (args.plot) {
      const written = await writeRunPlots(result.runDir);
      for (const file of written) lines.push(`${file.endsWith('.html') ? 'report' : 'plot'}: ${file}`);
    }
    if (leader && args.sample_tokens > 0 && result.steps > 0) lines.push(`sample: ${JSON.stringify(await sampleText(trainer, args))}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    detach();
    trainer.dispose();
  }
}
