/**
 * All plots of one or more run folders in one call (what `moonlight plot` and `moonlight train` write):
 * loss vs step / tokens / FLOPs as SVG and PNG, and report.html. Everything is read and rendered in memory
 * first and written only then, each file atomically, so bad input leaves no output at all and an
 * interrupted write leaves no half-written file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ArgumentError } from '../errors';
import { writeFileAtomically } from '../io/atomic_file';
import { LossXAxis, lossXAxes } from './chart_options';
import { renderDiagnosticsCharts } from './diagnostics_chart';
import { renderLossChart } from './loss_chart';
import { svgToPng } from './png';
import { reportHtml } from './report';
import { readRun } from './run_folder';

/** The folder the outputs go to when no `out` is given: plots/ inside the first run folder. */
export const defaultPlotFolderName = 'plots';

export interface RunPlotsOptions {
  out?: string;
  x?: LossXAxis | 'all';
  format?: 'svg' | 'png' | 'both';
  report?: boolean;
  smoothing?: number;
  width?: number;
  height?: number;
}

/** Renders everything, then writes it; returns the paths written. */
export function writeRunPlots(runFolders: string | readonly string[], options: RunPlotsOptions = {}): string[] {
  const { x = 'all', format = 'both', report = true, smoothing = 0, width = 960, height = 540 } = options;
  if (!Number.isFinite(smoothing) || smoothing < 0) {
    throw new ArgumentError(`--smoothing must be a non-negative number of steps, got ${smoothing}`);
  }
  const runs = (typeof runFolders === 'string' ? [runFolders] : runFolders).map((folder) => readRun(folder));
  if (runs.length === 0) throw new ArgumentError('name at least one run folder to plot');
  const outFolder = path.resolve(options.out ?? path.join(runs[0].folder, defaultPlotFolderName));
  if (fs.existsSync(outFolder) && !fs.statSync(outFolder).isDirectory()) {
    throw new ArgumentError(`--out ${outFolder}: is a file; pass a folder (it is created if missing)`);
  }
  const outputs: Array<{ file: string; contents: string | Buffer }> = [];
  for (const axis of x === 'all' ? lossXAxes : [x]) {
    const svg = renderLossChart(runs, { x: axis, smoothing, width, height });
    const base = path.join(outFolder, `loss-vs-${axis}`);
    if (format !== 'png') outputs.push({ file: `${base}.svg`, contents: svg });
    if (format !== 'svg') outputs.push({ file: `${base}.png`, contents: svgToPng(svg) });
  }
  // Diagnostics charts (update / weight RMS, max attention logit) of each run that logged them.
  for (const run of runs) {
    for (const diagnostic of renderDiagnosticsCharts(run.folder, { width, height })) {
      const base = path.join(outFolder, runs.length > 1 ? `${path.basename(run.folder)}-${diagnostic.name}` : diagnostic.name);
      if (format !== 'png') outputs.push({ file: `${base}.svg`, contents: diagnostic.svg });
      if (format !== 'svg') outputs.push({ file: `${base}.png`, contents: svgToPng(diagnostic.svg) });
    }
  }
  if (report) outputs.push({ file: path.join(outFolder, 'report.html'), contents: reportHtml(runs, { smoothing }) });
  fs.mkdirSync(outFolder, { recursive: true });
  for (const output of outputs) writeFileAtomically(output.file, output.contents);
  return outputs.map((output) => output.file);
}
