/** Server-side chart rendering: ECharts options → standalone SVG strings, no browser or canvas needed. */
import * as echarts from 'echarts';
import type { EChartsOption } from 'echarts';
import { ArgumentError } from '../errors';
import { formatAxisNumber, lossChartOption, LossChartOptions, stepMetricChartOption, StepMetric, withAxisFormatters } from './chart_options';
import type { PlotRun } from './run_folder';

export interface ChartSize {
  /** SVG width in pixels; default 960. */
  width?: number;
  /** SVG height in pixels; default 540. */
  height?: number;
}

const defaultWidthPixels = 960;
const defaultHeightPixels = 540;

/** Renders any ECharts option to an SVG string (server-side, SVG renderer), disposing the chart afterwards. */
export function renderChartSvg(option: EChartsOption, size: ChartSize = {}): string {
  const widthPixels = checkedSize(size.width ?? defaultWidthPixels, 'width');
  const heightPixels = checkedSize(size.height ?? defaultHeightPixels, 'height');
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: widthPixels, height: heightPixels });
  try {
    chart.setOption(withAxisFormatters(option, formatAxisNumber));
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** Loss of each run against step, tokens or FLOPs (train lines, eval loss dashed with markers) as SVG. */
export function renderLossChart(runs: readonly PlotRun[], options: LossChartOptions & ChartSize): string {
  return renderChartSvg(lossChartOption(runs, options), options);
}

/** Learning rate, tokens/s or gradient norm of each run against step, as SVG. */
export function renderStepMetricChart(runs: readonly PlotRun[], metric: StepMetric, size: ChartSize = {}): string {
  return renderChartSvg(stepMetricChartOption(runs, metric), size);
}

function checkedSize(pixels: number, name: string): number {
  if (typeof pixels !== 'number' || !Number.isInteger(pixels) || pixels < 50 || pixels > 16384) {
    throw new ArgumentError(`${name} must be an integer number of pixels in [50, 16384], got ${JSON.stringify(pixels)}`);
  }
  return pixels;
}
