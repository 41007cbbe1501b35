/** Plots of training runs: reading run folders, loss charts as SVG/PNG, and the self-contained HTML report. */
export { readRun, parseMetrics, metricsFileName, runJsonFileName } from './run-folder';
export type { PlotRun, RunJson, TrainPoint, EvalPoint } from './run-folder';
export {
  lossChartOption,
  stepMetricChartOption,
  lossXAxes,
  runLabels,
  formatAxisNumber,
} from './chart-options';
export type { LossChartOptions, LossXAxis, StepMetric } from './chart-options';
export { renderLossChart, renderStepMetricChart, renderChartSvg } from './loss-chart';
export type { ChartSize } from './loss-chart';
export { svgToPng } from './png';
export type { SvgToPngOptions } from './png';
export { writeReport, reportHtml } from './report';
export type { ReportOptions } from './report';
export { summarizeRun } from './run-summary';
export type { RunSummary } from './run-summary';
export { exponentialMovingAverage } from './smoothing';
