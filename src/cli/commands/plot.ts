import * as fs from 'fs';
import * as path from 'path';
import type { CommandModule } from 'yargs';
import { ArgumentError } from '../../errors';
import { writeFileAtomically } from '../../plot/atomic-write';
import { LossXAxis, lossXAxes } from '../../plot/chart-options';
import { renderLossChart } from '../../plot/loss-chart';
import { svgToPng } from '../../plot/png';
import { reportHtml } from '../../plot/report';
import { readRun } from '../../plot/run-folder';

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

/** The folder the outputs go to when --out is not given: plots/ inside the first run folder. */
export const defaultPlotFolderName = 'plots';

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
    for (const file of writePlots(args)) console.log(file);
  },
};

/** Renders everything, then writes it; returns the paths written. */
function writePlots(args: PlotArgs): string[] {
  if (!Number.isFinite(args.smoothing) || args.smoothing < 0) {
    throw new ArgumentError(`--smoothing must be a non-negative number of steps, got ${args.smoothing}`);
  }
  const runs = args.runs.map((folder) => readRun(folder));
  const outFolder = path.resolve(args.out ?? path.join(runs[0].folder, defaultPlotFolderName));
  if (fs.existsSync(outFolder) && !fs.statSync(outFolder).isDirectory()) {
    throw new ArgumentError(`--out ${outFolder}: is a file; pass a folder (it is created if missing)`);
  }
  const outputs: Array<{ file: string; contents: string | Buffer }> = [];
  for (const x of args.x === 'all' ? lossXAxes : [args.x]) {
    const svg = renderLossChart(runs, { x, smoothing: args.smoothing, width: args.width, height: args.height });
    const base = path.join(outFolder, `loss-vs-${x}`);
    if (args.format !== 'png') outputs.push({ file: `${base}.svg`, contents: svg });
    if (args.format !== 'svg') outputs.push({ file: `${base}.png`, contents: svgToPng(svg) });
  }
  if (args.report) outputs.push({ file: path.join(outFolder, 'report.html'), contents: reportHtml(runs, { smoothing: args.smoothing }) });
  fs.mkdirSync(outFolder, { recursive: true });
  for (const output of outputs) writeFileAtomically(output.file, output.contents);
  return outputs.map((output) => output.file);
}
