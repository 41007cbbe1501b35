import type { CommandModule } from 'yargs';
import { LossXAxis, lossXAxes } from '../../plot/chart_options';
import { defaultPlotFolderName, writeRunPlots } from '../../plot/run_plots';

interface PlotArgs {
  runs: string[];
  out?: string;
  x: LossXAxis | 'all';
  format: 'svg' | 'png' | 'both';
  report: boolean;
  smoothing: number;
  width: number;
  height: number;
}

/**
 * `moonlight plot RUN...`: loss charts (SVG/PNG) and an HTML report for one or more run folders.
 * Everything is read and rendered in memory first and written only then, each file atomically, so bad
 * input leaves no output at all and an interrupted write leaves no half-written file.
 */
export const plotCommand: CommandModule<object, PlotArgs> = {
  command: 'plot <runs..>',
  describe: 'Plot loss vs step / tokens / FLOPs of run folders (SVG, PNG) and write a self-contained HTML report',
  builder: (y) =>
    y
      .positional('runs', { type: 'string', array: true, demandOption: true, describe: 'Run folders (each holds run.json and metrics.jsonl)' })
      .option('out', {
        type: 'string',
        describe: `Folder for the outputs [default: <first run>/${defaultPlotFolderName}]`,
      })
      .option('x', { choices: [...lossXAxes, 'all'] as const, default: 'all' as const, describe: 'What the loss is plotted against (all: one chart for each)' })
      .option('format', { choices: ['svg', 'png', 'both'] as const, default: 'both' as const, describe: 'Image format(s) of the loss charts' })
      .option('report', { type: 'boolean', default: true, describe: 'Also write report.html (interactive, works offline); --no-report to skip' })
      .option('smoothing', {
        type: 'number',
        default: 0,
        describe: 'EMA span in logged steps for an extra smoothed train-loss line (0: none)',
      })
      .option('width', { type: 'number', default: 960, describe: 'Chart width in pixels' })
      .option('height', { type: 'number', default: 540, describe: 'Chart height in pixels' })
      .example('moonlight plot runs/muon runs/adamw --out plots/', 'Compare two runs: charts and report.html in plots/')
      .example('moonlight plot runs/muon --x flops --format png --no-report', 'Only loss-vs-flops.png, in runs/muon/plots/'),
  handler: (args) => {
    const written = writeRunPlots(args.runs, {
      out: args.out, x: args.x, format: args.format, report: args.report, smoothing: args.smoothing, width: args.width, height: args.height,
    });
    for (const file of written) console.log(file);
  },
};
