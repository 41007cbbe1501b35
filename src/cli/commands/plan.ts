import type { CommandModule } from 'yargs';
import { ConfigError } from '../../errors';
import { MemoryPlan, planMemory, PlanOptions } from '../../plan';

interface PlanArgs {
  model: string;
  task: 'generate' | 'lora' | 'full';
  json: boolean;
  [flag: string]: unknown;
}

// Each flag and the plan option it sets; the core says which options apply to which task.
const optionOfFlag: Record<string, keyof PlanOptions> = {
  optimizer: 'optimizer',
  dtype: 'dtype',
  precision: 'precision',
  world_size: 'worldSize',
  rank: 'rank',
  batch_size: 'batchSize',
  seq_len: 'seqLen',
  prompt_len: 'promptLength',
  lora_rank: 'loraRank',
  lora_alpha: 'loraAlpha',
  lora_dropout: 'loraDropout',
  target_modules: 'targetModules',
  bucket_bytes: 'bucketBytes',
};

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

function printTable(plan: MemoryPlan): void {
  const rows = Object.entries(plan.parts).filter(([, bytes]) => bytes > 0);
  const width = Math.max(...rows.map(([name]) => name.length), 'peak above the pre-job RSS'.length);
  for (const [name, bytes] of rows) console.log(`  ${name.padEnd(width)}  ${gib(bytes).padStart(12)}`);
  console.log(`  ${'peak above the pre-job RSS'.padEnd(width)}  ${gib(plan.peakBytes).padStart(12)}`);
  console.log(`  ${'runtime (whole process)'.padEnd(width)}  ${gib(plan.runtimeBytes).padStart(12)}`);
  console.log(`  ${'process peak'.padEnd(width)}  ${gib(plan.peakBytes + plan.runtimeBytes).padStart(12)}`);
  const perRank = plan.assumptions.optimizerStateBytesPerRank;
  if (perRank.length > 1) console.log(`optimizer state per rank: ${perRank.map(gib).join(', ')} (rank ${plan.assumptions.rank} shown)`);
  console.log('assumptions:');
  for (const note of plan.assumptions.notes) console.log(`  - ${note}`);
}

/** `moonlight plan`: will this model and job fit? The predicted peak memory of one process, part by part. */
export const planCommand: CommandModule<object, PlanArgs> = {
  command: 'plan',
  describe: 'Predict the peak memory of a generation, a LoRA or a full training job (per rank under ZeRO-1)',
  builder: (y) =>
    y
      .option('model', { type: 'string', demandOption: true, describe: 'A Hugging Face model folder or its config.json' })
      .option('task', { choices: ['generate', 'lora', 'full'] as const, demandOption: true, describe: 'The job' })
      .option('optimizer', { choices: ['muon', 'adamw'], describe: 'lora/full: Muon (AdamW for non-matrices) or AdamW [muon]' })
      .option('dtype', { choices: ['auto', 'bfloat16', 'float16', 'float32'], describe: "The weights' dtype [auto: the checkpoint's; full: float32]" })
      .option('precision', { choices: ['fp32', 'bf16-mixed'], describe: 'lora/full: compute precision [fp32]' })
      .option('world_size', { type: 'number', describe: 'lora/full: data-parallel ranks, ZeRO-1 above 1 [1]' })
      .option('rank', { type: 'number', describe: 'lora/full: the rank planned [the one with the most state]' })
      .option('batch_size', { type: 'number', describe: 'Sequences per micro-batch [1]' })
      .option('seq_len', { type: 'number', describe: 'Tokens per sequence; generate: KV cache positions [2048]' })
      .option('prompt_len', { type: 'number', describe: 'generate: prompt tokens prefilled at once [seq_len]' })
      .option('lora_rank', { type: 'number', describe: 'lora: adapter rank [8]' })
      .option('lora_alpha', { type: 'number', describe: 'lora: alpha [32]' })
      .option('lora_dropout', { type: 'number', describe: 'lora: adapter dropout [0.05]' })
      .option('target_modules', { type: 'string', describe: "lora: 'all-linear' or comma-separated module names [all-linear]" })
      .option('bucket_bytes', { type: 'number', describe: 'lora/full: ZeRO-1 gradient bucket bytes [25 MiB]' })
      .option('json', { type: 'boolean', default: false, describe: 'Print {peakBytes, runtimeBytes, parts, assumptions}' }),
  handler: (args) => {
    const options: Record<string, unknown> = { task: args.task };
    for (const [flag, key] of Object.entries(optionOfFlag)) {
      if (args[flag] === undefined) continue;
      const value = args[flag];
      options[key] = flag === 'target_modules' && value !== 'all-linear' ? String(value).split(',').map((m) => m.trim()) : value;
    }
    let plan: MemoryPlan;
    try {
      plan = planMemory(args.model, options as unknown as PlanOptions);
    } catch (error) {
      // The core names options by key: name the flag the user typed instead.
      if (error instanceof ConfigError) {
        error.message = error.message.replace(/options\.(\w+)/g, (whole, key: string) => {
          const flag = Object.entries(optionOfFlag).find(([, k]) => k === key)?.[0];
          return flag === undefined ? whole : `--${flag}`;
        }).replace(/task '(\w+)'/, '--task $1');
      }
      throw error;
    }
    if (args.json) {
      console.log(JSON.stringify(plan, null, 2));
      return;
    }
    console.log(`moonlight plan: --task ${args.task} on ${plan.assumptions.model} (${plan.assumptions.dtype})`);
    printTable(plan);
  },
};
