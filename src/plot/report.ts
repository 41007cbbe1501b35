/**
 * The HTML report: one self-contained file (ECharts' browser bundle inlined, data as embedded JSON, a
 * Content-Security-Policy that forbids every network fetch) with interactive charts of all runs and a
 * table of their settings and results. It opens from disk, offline, in any current browser.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { EChartsOption } from 'echarts';
import { ArgumentError } from '../errors';
import { writeFileAtomically } from '../io/atomic_file';
import { formatAxisNumber, formatAxisNumberSource, hasStepMetric, lossChartOption, lossXAxes, runColor, runLabels, StepMetric, stepMetricChartOption } from './chart_options';
import type { PlotRun } from './run_folder';
import { formatDuration, RunSummary, summarizeRun } from './run_summary';

export interface ReportOptions {
  /** Page title; default "moonlight training report". */
  title?: string;
  /** EMA span for the smoothed train-loss lines (see LossChartOptions.smoothing); default 0 (off). */
  smoothing?: number;
  /** When the report was made, shown in its header; default now. */
  generatedAt?: Date;
}

/** A chart of the report: the id of its element and its ECharts option. */
export interface ReportChart {
  id: string;
  option: EChartsOption;
}

const stepMetrics: readonly StepMetric[] = ['lr', 'tokensPerSecond', 'gradNorm'];

/** The charts the report shows: loss against each x axis some run logged, then lr, tokens/s, grad norm. */
export function reportCharts(runs: readonly PlotRun[], smoothing = 0): ReportChart[] {
  const charts: ReportChart[] = [];
  for (const x of lossXAxes) {
    if (x === 'step' || runs.some((run) => run.train.some((p) => p[x] !== undefined))) {
      charts.push({ id: `chart-loss-${x}`, option: lossChartOption(runs, { x, smoothing }) });
    }
  }
  for (const metric of stepMetrics) {
    if (hasStepMetric(runs, metric)) charts.push({ id: `chart-${metric}`, option: stepMetricChartOption(runs, metric) });
  }
  return charts;
}

/** The report's HTML text. */
export function reportHtml(runs: readonly PlotRun[], options: ReportOptions = {}): string {
  if (!Array.isArray(runs) || runs.length === 0) throw new ArgumentError('reportHtml: runs must be a non-empty array of runs from readRun()');
  const title = options.title ?? 'moonlight training report';
  const charts = reportCharts(runs, options.smoothing ?? 0);
  const missingAxes = lossXAxes.filter((x) => !charts.some((c) => c.id === `chart-loss-${x}`));
  const generatedAt = (options.generatedAt ?? new Date()).toISOString();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: system-ui, 'DejaVu Sans', Arial, sans-serif; margin: 24px; color: #1b1b1b; background: #fafafa; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  .generated { color: #666; font-size: 13px; margin-bottom: 16px; }
  table { border-collapse: collapse; font-size: 13px; margin-bottom: 24px; background: #fff; }
  th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; white-space: nowrap; }
  th { background: #f0f0f0; }
  td.text, th.text { text-align: left; }
  td.name { white-space: normal; min-width: 160px; max-width: 360px; overflow-wrap: anywhere; }
  .table-scroll { overflow-x: auto; }
  .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
  .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; }
  .chart { height: 420px; background: #fff; border: 1px solid #e3e3e3; border-radius: 4px; }
  .note { color: #666; font-size: 13px; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<div class="generated">generated ${escapeHtml(generatedAt)} from ${runs.length} run${runs.length === 1 ? '' : 's'}</div>
${summaryTable(runs)}
${missingAxes.length > 0 ? `<p class="note">No loss vs ${missingAxes.join(' / ')} chart: no run logged ${missingAxes.join(' or ')}.</p>` : ''}
<div class="charts">
${charts.map((c) => `<div class="chart" id="${c.id}"></div>`).join('\n')}
</div>
<script type="application/json" id="moonlight-charts">${jsonForScript(charts)}</script>
<script>${echartsBrowserBundle()}</script>
<script>${startupScript()}</script>
</body>
</html>
`;
}

/** Writes the report to `outFile` atomically (temporary file + rename); returns the absolute path. */
export function writeReport(runs: readonly PlotRun[], outFile: string, options: ReportOptions = {}): string {
  if (typeof outFile !== 'string' || outFile.length === 0) throw new ArgumentError('writeReport: outFile must be a file path');
  const resolved = path.resolve(outFile);
  const html = reportHtml(runs, options);
  fs.mkdirSync(path.dirname(resolved), { recursive: true });
  writeFileAtomically(resolved, html);
  return resolved;
}

function summaryTable(runs: readonly PlotRun[]): string {
  const labels = runLabels(runs);
  const columns: Array<{ title: string; text?: boolean; cell: (s: RunSummary) => string }> = [
    { title: 'status', text: true, cell: (s) => s.status ?? '' },
    { title: 'model', text: true, cell: (s) => s.modelType ?? '' },
    { title: 'parameters', cell: (s) => optionalNumber(s.numParameters) },
    { title: 'activated', cell: (s) => optionalNumber(s.activatedParameters) },
    { title: 'optimizer', text: true, cell: (s) => s.optimizerType ?? '' },
    { title: 'lr', cell: (s) => optionalNumber(s.lr) },
    { title: 'weight decay', cell: (s) => optionalNumber(s.weightDecay) },
    { title: 'steps', cell: (s) => (s.steps === undefined ? '' : String(s.steps)) },
    { title: 'tokens', cell: (s) => optionalNumber(s.tokens) },
    { title: 'FLOPs', cell: (s) => optionalNumber(s.flops) },
    { title: 'final loss', cell: (s) => optionalFixed(s.finalLoss) },
    { title: 'final val loss', cell: (s) => optionalFixed(s.finalValLoss) },
    { title: 'wall time', cell: (s) => (s.wallSeconds === undefined ? '' : formatDuration(s.wallSeconds)) },
    { title: 'created', text: true, cell: (s) => s.createdAt ?? '' },
  ];
  const header = `<tr><th class="text">run</th>${columns.map((c) => `<th${c.text ? ' class="text"' : ''}>${escapeHtml(c.title)}</th>`).join('')}</tr>`;
  const rows = runs.map((run, index) => {
    const summary = summarizeRun(run);
    const nameCell =
      `<td class="text name" title="${escapeHtml(summary.folder)}"><span class="swatch" style="background:${runColor(index)}"></span>` +
      `${escapeHtml(labels[index])}</td>`;
    return `<tr>${nameCell}${columns.map((c) => `<td${c.text ? ' class="text"' : ''}>${escapeHtml(c.cell(summary))}</td>`).join('')}</tr>`;
  });
  return `<div class="table-scroll"><table id="runs">\n<thead>${header}</thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table></div>`;
}

function optionalNumber(value: number | undefined): string {
  return value === undefined ? '' : formatAxisNumber(value);
}

function optionalFixed(value: number | undefined): string {
  return value === undefined ? '' : value.toFixed(4);
}

/** Text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * JSON that is safe inside <script>: `<`, `>` and `&` as \u escapes, so no run name can close the script
 * element or open a comment; U+2028/9 too, for old parsers that treat them as line ends.
 */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

let cachedBundle: string | undefined;

/** ECharts' own browser build, from the installed package — the version the SVG charts use. */
function echartsBrowserBundle(): string {
  if (cachedBundle === undefined) {
    const bundle = fs.readFileSync(require.resolve('echarts/dist/echarts.min.js'), 'utf8');
    // Not expected in a minified library, but it would end our <script> element early.
    cachedBundle = bundle.replace(/<\/script/gi, '<\\/script');
  }
  return cachedBundle;
}

/** Starts the charts; sets window.moonlightReport.ready once every chart has finished rendering. */
function startupScript(): string {
  return `
(function () {
  'use strict';
  var formatAxisNumber = function (value) {${formatAxisNumberSource}};
  var charts = JSON.parse(document.getElementById('moonlight-charts').textContent);
  var report = (window.moonlightReport = { ready: false, charts: [] });
  var unfinished = charts.length;
  charts.forEach(function (entry) {
    var chart = echarts.init(document.getElementById(entry.id), null, { renderer: 'svg' });
    [entry.option.xAxis, entry.option.yAxis].forEach(function (axis) {
      axis.axisLabel = Object.assign({}, axis.axisLabel, { formatter: formatAxisNumber });
    });
    // Tooltips: five significant digits, not the float's seventeen.
    entry.option.tooltip.valueFormatter = function (value) {
      return typeof value === 'number' ? String(Number(value.toPrecision(5))) : String(value);
    };
    // The report can be zoomed with the mouse wheel / drag on the x axis.
    entry.option.dataZoom = [{ type: 'inside', xAxisIndex: 0, filterMode: 'none' }];
    chart.on('finished', function onFinished() {
      chart.off('finished', onFinished);
      unfinished -= 1;
      if (unfinished === 0) report.ready = true;
    });
    chart.setOption(entry.option);
    report.charts.push(chart);
    window.addEventListener('resize', function () { chart.resize(); });
  });
  if (unfinished === 0) report.ready = true;
})();
`;
}
