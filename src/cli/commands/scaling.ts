import type { CommandModule } from 'yargs';
import { formatDuration } from '../../train/progress';
import { runScaling } from '../../experiments/scaling';
import { SCALING_PRESETS } from '../../experiments/scaling_presets';
import type { LrSearch, LrSearchAt } from '../../experiments/scaling_presets';

interface ScalingArgs {
  preset: string;
  out?: string;
  dataset: string;
  seeds?: number;
  lr_search?: LrSearch;
  lr_search_at?: LrSearchAt;
  muon_rms_from_adamw?: boolean;
}

/** `moonlight scaling --preset NAME`: Muon vs AdamW over model sizes and seeds, power-law fits, the compute ratio and its interval. */
export const scalingCommand: CommandModule<object, ScalingArgs> = {
  command: 'scaling',
  describe: "Muon vs AdamW scaling sweep (the paper's Fig. 3): ≥ 4 sizes × both optimizers × seeds, power-law fits, compute ratio with a 90 % interval, plot + JSON",
  builder: (y) =>
    y
      .option('preset', { choices: Object.keys(SCALING_PRESETS), default: 'cpu-small', describe: Object.entries(SCALING_PRESETS).map(([k, p]) => `${k}: ${p.description}`).join('; ') })
      .option('out', { type: 'string', describe: 'Output folder (default scaling-<preset>); finished runs in it are reused' })
      .option('dataset', { type: 'string', default: 'moby-dick', describe: 'Dataset name or files' })
      .option('seeds', { type: 'number', describe: "Seeds 0..N−1 per point (each fixes the weights and the data order); default the preset's" })
      .option('lr_search', { choices: ['both', 'adamw'] as const, describe: "both: each optimizer its own best lr (the paper's recipe is reported beside it); adamw: AdamW's lr for both. Default the preset's" })
      .option('lr_search_at', { choices: ['smallest', 'smallest,largest'] as const, describe: "Sizes the lr grids run at (several: lr geometric in parameters between). Default the preset's" })
      .option('muon_rms_from_adamw', { type: 'boolean', describe: "Also train Muon with its update rescaled per matrix type to the same-size AdamW run's second-half update RMS. Default the preset's" })
      .check((a) => {
        if (a.seeds !== undefined && (!Number.isSafeInteger(a.seeds) || a.seeds < 1)) throw new Error(`--seeds must be an integer ≥ 1, got ${a.seeds}`);
        return true;
      }),
  handler: async (args) => {
    const report = await runScaling({
      preset: args.preset, out: args.out, dataset: args.dataset, seeds: args.seeds, lrSearch: args.lr_search,
      lrSearchAt: args.lr_search_at, muonRmsFromAdamw: args.muon_rms_from_adamw,
      onRun: (e) => {
        if (e.phase === 'start') console.error(`[${e.index}/${e.total}] ${e.run}`);
        else console.error(`[${e.index}/${e.total}] ${e.run}: final validation loss ${e.finalValLoss?.toFixed(4)}`);
      },
    });
    for (const grid of report.lrGrids) {
      console.log(`${grid.optimizer} lr grid at ${grid.size} (seed ${grid.seed}): ${grid.results.map((g) => `${g.lr}: ${g.finalValLoss.toFixed(4)}`).join(', ')} → lr ${grid.best}` +
        (grid.bestAtGridEdge ? " (the grid's edge: the optimum may lie beyond it)" : ''));
    }
    console.log(`seeds ${report.seeds.join(', ')}; ${report.tokenRule}`);
    for (const curve of report.curves) {
      const points = curve.points.map((p) => `${p.size} ${p.meanLoss.toFixed(4)} ± ${p.sdLoss.toFixed(4)}`).join(', ');
      console.log(`${curve.name} (lr: ${curve.lrProcedure}): ${points}`);
    }
    for (const c of report.comparisons) {
      const ratio = c.ratio === null ? 'n/a (the fits do not reach the same losses)' : c.ratio.toFixed(3);
      const interval = c.interval === null ? 'no interval (one seed)' : `90 % interval [${c.interval.low.toFixed(3)}, ${c.interval.high.toFixed(3)}] (${c.interval.method})`;
      console.log(`compute ratio ${c.muonCurve}/adamw at equal loss: ${ratio}, ${interval}`);
    }
    console.log(`(${formatDuration(report.elapsedSeconds)})`);
  },
};
