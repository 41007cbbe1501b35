/** `moonlight eval`: perplexity / bits per byte on a dataset, or multiple-choice accuracy on a JSONL task file. */
import * as fs from 'fs';
import * as path from 'path';
import { SingleBar } from 'cli-progress';
import type { Argv, CommandModule } from 'yargs';
import { ArgumentError } from '../../errors';
import { CausalLM } from '../../models/causal_lm';
import { resolveDataset } from '../../data/default_corpus';
import { loadTokenizer } from '../../data/tokenizer/load';
import type { Tokenizer } from '../../data/tokenizer/types';
import { evaluatePerplexity } from '../../eval/perplexity';
import { scoreMultipleChoice } from '../../eval/multiple_choice';

interface EvalArgs {
  model: string;
  dataset?: string;
  task?: string;
  tokenizer?: string;
  seq_len?: number;
  batch_size: number;
  few_shot: number;
  seed: number;
  max_batches?: number;
  cache_dir?: string;
  json: boolean;
}

function builder(y: Argv): Argv<EvalArgs> {
  return y
    .option('model', { type: 'string', demandOption: true, describe: 'Hugging Face model folder (config.json + safetensors)' })
    .option('dataset', { type: 'string', describe: "Perplexity on 'moby-dick', 'openwebtext-100k', or text / .jsonl / .parquet files or a folder" })
    .option('task', { type: 'string', describe: 'Multiple-choice task: JSONL of {question, choices, answer} or {ctx, endings, label}' })
    .option('tokenizer', { type: 'string', describe: "'byte', 'gpt2', …, or a tiktoken.model / tokenizer.json file or folder [default: the model folder's own]" })
    .option('seq_len', { type: 'number', describe: "Tokens per window (--dataset) [default: min(512, the model's max_position_embeddings)]" })
    .option('batch_size', { type: 'number', default: 8, describe: 'Windows (--dataset) or choices (--task) per forward pass' })
    .option('few_shot', { type: 'number', default: 0, describe: 'Solved examples before each question (--task)' })
    .option('seed', { type: 'number', default: 1234, describe: 'Picks the few-shot examples (--task)' })
    .option('max_batches', { type: 'number', describe: 'Stop after this many batches (--dataset)' })
    .option('cache_dir', { type: 'string', describe: 'Token cache folder (--dataset)' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the results as one JSON object' }) as Argv<EvalArgs>;
}

function checkFlags(args: EvalArgs): void {
  if ((args.dataset === undefined) === (args.task === undefined)) throw new ArgumentError('give exactly one of --dataset and --task');
  if (!fs.existsSync(path.join(args.model, 'config.json'))) throw new ArgumentError(`--model ${args.model} is not a model folder (no config.json)`);
  for (const flag of ['seq_len', 'batch_size', 'few_shot', 'seed', 'max_batches'] as const) {
    const value = args[flag];
    const minimum = flag === 'few_shot' || flag === 'seed' ? 0 : flag === 'seq_len' ? 2 : 1;
    if (value !== undefined && (!Number.isInteger(value) || value < minimum)) throw new ArgumentError(`--${flag} must be an integer ≥ ${minimum}, got ${value}`);
  }
  if (args.task !== undefined && !fs.existsSync(args.task)) throw new ArgumentError(`--task ${args.task} does not exist`);
  if (args.task !== undefined && args.seq_len !== undefined) throw new ArgumentError('--seq_len applies to --dataset only (a --task scores each choice whole)');
}

/** --seq_len, or min(512, the model's context) when not given; longer than the model's context is an error. */
function windowLength(requested: number | undefined, maxPositionEmbeddings: number): number {
  if (requested === undefined) return Math.min(512, maxPositionEmbeddings);
  if (requested > maxPositionEmbeddings) {
    throw new ArgumentError(`--seq_len ${requested} is longer than the model's max_position_embeddings (${maxPositionEmbeddings})`);
  }
  return requested;
}

/** A live bar on a TTY, else a line at every tenth of the work (and the end). */
function progressReporter(label: string): { update: (done: number, total: number) => void; stop: () => void } {
  const stream = process.stderr;
  let bar: SingleBar | null = null;
  let lastTenth = -1;
  return {
    update(done, total) {
      if (stream.isTTY) {
        if (bar === null) {
          bar = new SingleBar({ stream, format: `${label} {value}/{total} |{bar}| ETA {eta_formatted}`, barsize: 24, hideCursor: true });
          bar.start(total, 0);
        }
        bar.update(done);
        return;
      }
      const tenth = Math.floor((10 * done) / total);
      if (tenth === lastTenth && done !== total) return;
      lastTenth = tenth;
      stream.write(`${label} ${done}/${total} (${Math.floor((100 * done) / total)}%)\n`);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: 'Evaluate a model: perplexity and bits per byte on a dataset, or multiple-choice accuracy on a task file',
  builder,
  handler: async (args) => {
    checkFlags(args);
    const tokenizer: Tokenizer = await loadTokenizer(args.tokenizer ?? args.model);
    const model = await CausalLM.fromPretrained(args.model);
    const progress = progressReporter(args.task !== undefined ? 'choices' : 'batches');
    try {
      if (args.task !== undefined) {
        const result = await scoreMultipleChoice(model, tokenizer, args.task, {
          fewShot: args.few_shot, batchSize: args.batch_size, seed: args.seed, onProgress: progress.update,
        });
        progress.stop();
        if (args.json) process.stdout.write(`${JSON.stringify({ model: args.model, ...result })}\n`);
        else {
          process.stdout.write(
            `${result.task}: ${result.items} items, ${result.fewShot}-shot\n` +
              `acc      ${result.acc.toFixed(4)} ± ${result.accStderr.toFixed(4)}\n` +
              `acc_norm ${result.accNorm.toFixed(4)} ± ${result.accNormStderr.toFixed(4)}\n`,
          );
        }
      } else {
        const dataset = resolveDataset(args.dataset!);
        const seqLen = windowLength(args.seq_len, model.config.maxPositionEmbeddings);
        const result = await evaluatePerplexity(model, dataset.files, {
          tokenizer, seqLen, batchSize: args.batch_size, maxBatches: args.max_batches, cacheDir: args.cache_dir, onProgress: progress.update,
        });
        progress.stop();
        if (args.json) process.stdout.write(`${JSON.stringify({ model: args.model, dataset: args.dataset, ...result })}\n`);
        else {
          process.stdout.write(
            `${args.dataset}: ${result.tokens.toLocaleString('en-US')} tokens, ${result.bytes.toLocaleString('en-US')} bytes\n` +
              `loss ${result.loss.toFixed(4)}  perplexity ${result.perplexity.toFixed(3)}  bits/byte ${result.bitsPerByte.toFixed(4)}\n`,
          );
        }
      }
    } finally {
      progress.stop();
      tokenizer.dispose();
    }
  },
};
