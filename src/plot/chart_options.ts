/**
 * ECharts options for the run charts. The same options serve the server-side SVG/PNG (loss-chart.ts) and
 * the interactive HTML report (report.ts), so they hold data only — no functions: the report embeds them
 * as JSON. Axis label formatting is the one function, attached by `withAxisFormatters` on either side.
 */
import type { EChartsOption, LineSeriesOption } from 'echarts';
import { ArgumentError } from '../errors';
import type { EvalPoint, PlotRun, TrainPoint } from './run_folder';
import { exponentialMovingAverage, thinPoints } from './smoothing';

/** What the loss is plotted against. */
export type LossXAxis = 'step' | 'tokens' | 'flops';
export const lossXAxes: readonly LossXAxis[] = ['step', 'tokens', 'flops'];

/** The per-step train metrics charted against step besides the loss. */
export type StepMetric = 'lr' | 'tokensPerSecond' | 'gradNorm';

export interface LossChartOptions {
  x: LossXAxis;
  /** EMA span in logged points for an extra smoothed train line; 0 or 1: raw lines only. Default 0. */
  smoothing?: number;
  /** Chart title; default "Loss vs <axis>". */
  title?: string;
  /** Longer series are thinned to this many points (after smoothing). Default 5000. */
  maxPointsPerSeries?: number;
}

/** Run colours; a run keeps its colour across every chart (train, smoothed and eval lines alike). */
const runColors = ['#2f6fdf', '#e4572e', '#2a9d55', '#9b5de5', '#f2a900', '#17a2b8', '#d63384', '#6c757d', '#8c564b', '#1b1b1b'];

export function runColor(index: number): string {
  return runColors[index % runColors.length];
}

const xAxisNames: Record<LossXAxis, string> = {
  step: 'optimizer step',
  tokens: 'training tokens',
  flops: 'training FLOPs (log scale)',
};

const stepMetricNames: Record<StepMetric, { title: string; axis: string }> = {
  lr: { title: 'Learning rate vs step', axis: 'learning rate' },
  tokensPerSecond: { title: 'Throughput vs step', axis: 'tokens per second' },
  gradNorm: { title: 'Gradient norm vs step', axis: 'gradient norm (L2)' },
};

const lossAxisName = 'loss (nats per token)';
const defaultMaxPointsPerSeries = 5000;

/**
 * Legend labels, one per run: the run names, with " (2)", " (3)"… added to repeats, since ECharts merges
 * series of the same name into one legend entry.
 */
export function runLabels(runs: readonly PlotRun[]): string[] {
  const seen = new Map<string, number>();
  return runs.map((run) => {
    const count = (seen.get(run.name) ?? 0) + 1;
    seen.set(run.name, count);
    return count === 1 ? run.name : `${run.name} (${count})`;
  });
}

/** The option of a loss chart: per run a train line, an optional smoothed line, and eval loss as a dashed line with markers. */
export function lossChartOption(runs: readonly PlotRun[], options: LossChartOptions): EChartsOption {
  checkRuns(runs, 'lossChartOption');
  const x = options.x;
  if (!lossXAxes.includes(x)) throw new ArgumentError(`x must be one of ${lossXAxes.join(', ')}, got ${JSON.stringify(x)}`);
  const smoothing = options.smoothing ?? 0;
  if (typeof smoothing !== 'number' || !Number.isFinite(smoothing) || smoothing < 0) {
    throw new ArgumentError(`smoothing must be a non-negative EMA span in points, got ${JSON.stringify(smoothing)}`);
  }
  const maxPoints = options.maxPointsPerSeries ?? defaultMaxPointsPerSeries;
  const labels = runLabels(runs);
  const series: LineSeriesOption[] = [];
  runs.forEach((run, index) => {
    const color = runColor(index);
    const smoothed = smoothing > 1;
    const trainPoints = run.train.map((p) => [xValue(p, x), p.loss] as const);
    series.push(lineSeries(labels[index], color, pointsForAxis(trainPoints, x, maxPoints), { opacity: smoothed ? 0.3 : 1 }));
    if (smoothed) {
      const averaged = exponentialMovingAverage(run.train.map((p) => p.loss), smoothing);
      const smoothedPoints = trainPoints.map(([xv], i) => [xv, averaged[i]] as const);
      // Same name as the raw line: one legend entry toggles both.
      series.push(lineSeries(labels[index], color, pointsForAxis(smoothedPoints, x, maxPoints), { width: 2.5 }));
    }
    const evalPoints = run.eval.map((p) => [xValue(p, x), p.valLoss] as const);
    if (evalPoints.length > 0) {
      series.push({
        ...lineSeries(`${labels[index]} (val)`, color, pointsForAxis(evalPoints, x, maxPoints), { dashed: true }),
        showSymbol: true,
        symbol: 'circle',
        symbolSize: 6,
      });
    }
  });
  return baseOption(options.title ?? `Loss vs ${x === 'flops' ? 'FLOPs' : x}`, {
    xAxis: {
      type: x === 'flops' ? 'log' : 'value',
      name: xAxisNames[x],
      scale: x !== 'flops',
      ...xAxisLayout,
    },
    yAxis: { type: 'value', name: lossAxisName, scale: true, ...yAxisLayout },
    series,
  });
}

/** The option of a chart of one per-step train metric (lr, tokens/s, grad norm) against step. */
export function stepMetricChartOption(runs: readonly PlotRun[], metric: StepMetric, maxPointsPerSeries = defaultMaxPointsPerSeries): EChartsOption {
  checkRuns(runs, 'stepMetricChartOption');
  const names = stepMetricNames[metric];
  if (names === undefined) throw new ArgumentError(`metric must be one of ${Object.keys(stepMetricNames).join(', ')}, got ${JSON.stringify(metric)}`);
  const labels = runLabels(runs);
  const series = runs.map((run, index) => {
    const points = run.train.map((p) => [p.step, p[metric] ?? Number.NaN] as const);
    return lineSeries(labels[index], runColor(index), pointsForAxis(points, 'step', maxPointsPerSeries), {});
  });
  return baseOption(names.title, {
    xAxis: { type: 'value', name: xAxisNames.step, scale: true, ...xAxisLayout },
    yAxis: { type: 'value', name: names.axis, scale: true, ...yAxisLayout },
    series,
  });
}

/** Whether any run logged `metric`: the report leaves out charts that would be empty. */
export function hasStepMetric(runs: readonly PlotRun[], metric: StepMetric): boolean {
  return runs.some((run) => run.train.some((p) => p[metric] !== undefined));
}

/**
 * Short axis labels: 1.5M, 3.2G, 4P, 1e21 rather than 1,500,000. Kept as JavaScript source (the body of a
 * function of `value`) because the HTML report runs it in the browser: report.ts inlines this text, and
 * Node compiles the very same text below, so the SVG/PNG and the report label axes alike.
 */
export const formatAxisNumberSource = `
  var magnitude = Math.abs(value);
  if (magnitude === 0) return '0';
  if (magnitude >= 1e21 || magnitude < 1e-3) return Number(value.toPrecision(3)).toExponential().replace('e+', 'e');
  var units = [[1e18, 'E'], [1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (var i = 0; i < units.length; i++) {
    if (magnitude >= units[i][0]) return Number((value / units[i][0]).toPrecision(3)) + units[i][1];
  }
  return String(Number(value.toPrecision(3)));
`;

// eslint-disable-next-line @typescript-eslint/no-implied-eval -- trusted constant source above, see its comment
export const formatAxisNumber = new Function('value', formatAxisNumberSource) as (value: number) => string;

/** Attaches `formatter` to both axes' labels of an option built here (mutates and returns it). */
export function withAxisFormatters(option: EChartsOption, formatter: (value: number) => string): EChartsOption {
  for (const axis of [option.xAxis, option.yAxis]) {
    if (axis !== undefined && !Array.isArray(axis)) {
      (axis as { axisLabel?: Record<string, unknown> }).axisLabel = { ...(axis as { axisLabel?: object }).axisLabel, formatter };
    }
  }
  return option;
}

const xAxisLayout = { nameLocation: 'middle', nameGap: 30, splitLine: { show: true } } as const;
const yAxisLayout = { nameLocation: 'middle', nameGap: 50 } as const;

function baseOption(title: string, parts: Pick<EChartsOption, 'xAxis' | 'yAxis' | 'series'>): EChartsOption {
  return {
    // Server-side renders are single frames; the report's charts should appear at once too.
    animation: false,
    backgroundColor: '#ffffff',
    // Server-side ECharts lays text out with Helvetica's glyph widths (there is no canvas to measure with),
    // so metric-compatible faces come first; otherwise legend labels overlap in the SVG/PNG.
    textStyle: { fontFamily: 'Liberation Sans, Arial, Helvetica, DejaVu Sans, sans-serif' },
    title: { text: title, left: 'center', top: 8, textStyle: { fontSize: 16 } },
    legend: { type: 'scroll', bottom: 8, left: 'center' },
    // confine: a tooltip near the chart's edge stays inside it rather than running off the page.
    tooltip: { trigger: 'axis', confine: true },
    grid: { left: 80, right: 40, top: 50, bottom: 90 },
    ...parts,
  };
}

function lineSeries(
  name: string,
  color: string,
  data: number[][],
  style: { opacity?: number; width?: number; dashed?: boolean },
): LineSeriesOption {
  return {
    type: 'line',
    name,
    data,
    color,
    showSymbol: false,
    // Large runs: the browser draws a representative subset when zoomed out.
    sampling: 'lttb',
    lineStyle: { color, width: style.width ?? 1.5, opacity: style.opacity ?? 1, type: style.dashed ? 'dashed' : 'solid' },
    emphasis: { focus: 'series' },
  };
}

function xValue(point: TrainPoint | EvalPoint, x: LossXAxis): number {
  return point[x] ?? Number.NaN;
}

/** Drops points with no x or no y (and non-positive x on the log FLOPs axis), then thins. */
function pointsForAxis(points: ReadonlyArray<readonly [number, number]>, x: LossXAxis, maxPoints: number): number[][] {
  const plottable = points.filter(([xv, yv]) => Number.isFinite(xv) && Number.isFinite(yv) && (x !== 'flops' || xv > 0));
  return thinPoints(plottable, maxPoints).map(([xv, yv]) => [xv, yv]);
}

function checkRuns(runs: readonly PlotRun[], where: string): void {
  if (!Array.isArray(runs) || runs.length === 0) throw new ArgumentError(`${where}: runs must be a non-empty array of runs from readRun()`);
}
