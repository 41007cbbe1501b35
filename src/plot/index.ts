/** Plots of training runs: reading run folders, loss charts as SVG/PNG, and the self-contained HTML report. */
export { readRun, parseMetrics, metricsFileName, runJsonFileName } from './run_folder';
export type { PlotRun, RunJson, TrainPoint, EvalPoint } from './run_folder';
export {
  lossChartOption,
  stepMetricChartOption,
  lossXAxes,
  runLabels,
  formatAxisNumber,
} from './chart_options';
export type { LossChartOptions, LossXAxis, StepMetric } from './chart_options';
export { renderLossChart, renderStepMetricChart, renderChartSvg } from './loss_chart';
export type { ChartSize } from './loss_chart';
export { svgToPng } from './png';
export type { SvgToPngOptions } from './png';
export { writeReport, reportHtml } from './report';
export type { ReportOptions } from './report';
export { summarizeRun } from './run_summary';
export type { RunSummary } from './run_summary';
export { exponentialMovingAverage } from './smoothing';
export { defaultPlotFolderName, writeRunPlots } from './run_plots';
export type { RunPlotsOptions } from './run_plots';
