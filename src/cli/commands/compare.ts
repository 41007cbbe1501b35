import type { CommandModule } from 'yargs';
import { parseCompareConfig, runCompare } from '../../experiments/compare';

interface CompareArgs {
  config: string[];
  out: string;
  model: string;
  hidden_size?: number;
  num_layers?: number;
  dataset: string;
  steps: number;
  batch_size: number;
  seq_len: number;
  lr: number;
  wd: number;
  seed: number;
  diagnostics_every: number;
}

/** `moonlight compare --config ... --config ...`: configurations side by side, loss / weight RMS / update RMS plotted together. */
export const compareCommand: CommandModule<object, CompareArgs> = {
  command: 'compare',
  describe: 'Train two or more configurations on the same model and data; plot loss, weight RMS and update RMS together',
  builder: (y) =>
    y
      .option('config', { type: 'string', array: true, demandOption: true, describe: 'One configuration: name=…,optimizer=muon|adamw,lr=…,wd=…,qk_clip=τ (repeat the flag)' })
      .option('out', { type: 'string', default: 'compare', describe: 'Output folder (runs/<name>/, charts, compare.json); finished runs are reused' })
      .option('model', { type: 'string', default: 'moonlight-tiny', describe: 'Model preset, config.json or model folder' })
      .option('hidden_size', { type: 'number', describe: 'Width of a preset' })
      .option('num_layers', { type: 'number', describe: 'Layers of a preset' })
      .option('dataset', { type: 'string', default: 'moby-dick', describe: 'Dataset name or files' })
      .option('steps', { type: 'number', default: 200, describe: 'Optimizer steps of every configuration' })
      .option('batch_size', { type: 'number', default: 16, describe: 'Sequences per step' })
      .option('seq_len', { type: 'number', default: 128, describe: 'Tokens per sequence' })
      .option('lr', { type: 'number', default: 1e-3, describe: 'Peak lr where a configuration sets none' })
      .option('wd', { type: 'number', default: 0.1, describe: 'Weight decay where a configuration sets none' })
      .option('seed', { type: 'number', default: 0, describe: 'Seed shared by every configuration' })
      .option('diagnostics_every', { type: 'number', default: 5, describe: 'Diagnostics (RMS) every N steps' })
      .example("moonlight compare --config name=wd0.1,wd=0.1 --config name=wd0,wd=0 --steps 300", 'Muon with and without weight decay')
      .example('moonlight compare --config optimizer=muon --config optimizer=adamw', 'Muon vs AdamW'),
  handler: async (args) => {
    const { files } = await runCompare({
      configs: args.config.map(parseCompareConfig), out: args.out,
      common: {
        model: args.model, modelSize: { hiddenSize: args.hidden_size, numLayers: args.num_layers }, dataset: args.dataset,
        maxSteps: args.steps, batchSize: args.batch_size, seqLen: args.seq_len, lr: args.lr, weightDecay: args.wd, seed: args.seed,
        diagnosticsEvery: args.diagnostics_every,
      },
      onRun: (e) => { if (e.phase === 'start') console.error(`[${e.index}/${e.total}] ${e.config}`); },
    });
    for (const file of files) console.log(file);
  },
};
