import type { CommandModule } from 'yargs';
import { formatDuration } from '../../train/progress';
import { runScaling } from '../../experiments/scaling';
import { SCALING_PRESETS } from '../../experiments/scaling_presets';

interface ScalingArgs {
  preset: string;
  out?: string;
  dataset: string;
  seed: number;
}

/** `moonlight scaling --preset NAME`: Muon vs AdamW over model sizes, power-law fits and the compute ratio. */
export const scalingCommand: CommandModule<object, ScalingArgs> = {
  command: 'scaling',
  describe: "Muon vs AdamW scaling sweep (the paper's Fig. 3): ≥ 4 sizes × both optimizers, power-law fits, compute ratio, plot + JSON",
  builder: (y) =>
    y
      .option('preset', { choices: Object.keys(SCALING_PRESETS), default: 'cpu-small', describe: Object.entries(SCALING_PRESETS).map(([k, p]) => `${k}: ${p.description}`).join('; ') })
      .option('out', { type: 'string', describe: 'Output folder (default scaling-<preset>); finished runs in it are reused' })
      .option('dataset', { type: 'string', default: 'moby-dick', describe: 'Dataset name or files' })
      .option('seed', { type: 'number', default: 0, describe: 'Seed of the weights and data order (same for every run)' }),
  handler: async (args) => {
    const report = await runScaling({
      preset: args.preset, out: args.out, dataset: args.dataset, seed: args.seed,
      onRun: (e) => {
        if (e.phase === 'start') console.error(`[${e.index}/${e.total}] ${e.run}`);
        else console.error(`[${e.index}/${e.total}] ${e.run}: final validation loss ${e.finalValLoss?.toFixed(4)}`);
      },
    });
    console.log(`AdamW lr grid at the smallest size: ${report.lrGrid.map((g) => `${g.lr}: ${g.finalValLoss.toFixed(4)}`).join(', ')} → lr ${report.lr}`);
    for (const optimizer of ['muon', 'adamw'] as const) {
      const fit = report.fits[optimizer];
      console.log(`${optimizer}: L(C) = ${fit.a.toPrecision(4)}·C^-${fit.b.toPrecision(4)} + ${fit.c.toPrecision(4)} (rms log error ${fit.rmsLogError.toExponential(2)})`);
    }
    const ratio = report.computeRatio === null ? 'n/a (the fits do not reach the same losses)' : report.computeRatio.toFixed(3);
    console.log(`compute ratio Muon/AdamW at equal loss: ${ratio} (${formatDuration(report.elapsedSeconds)})`);
  },
};
