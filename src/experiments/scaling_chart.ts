/**
 * The scaling sweep's chart, laid out like the paper's Fig. 3: validation loss against training FLOPs
 * (log axis) for every run, each optimizer in its colour, the final point of each run marked, and each
 * optimizer's fitted power law with offset drawn dashed across the swept compute range.
 */
import type { EChartsOption, SeriesOption } from 'echarts';
import { renderChartSvg } from '../plot/loss_chart';
import { lossAtCompute } from './power_law_fit';
import type { ScalingReport } from './scaling';

const optimizerColors = { muon: '#2f6fdf', adamw: '#e4572e' } as const;
const optimizerLabels = { muon: 'Muon', adamw: 'AdamW' } as const;

export function scalingChartOption(report: ScalingReport): EChartsOption {
  const series: SeriesOption[] = [];
  for (const run of report.runs) {
    series.push({
      type: 'line', name: `${optimizerLabels[run.optimizer]} runs`, data: run.curve.map((p) => [p.flops, p.loss]),
      lineStyle: { width: 1, opacity: 0.45, color: optimizerColors[run.optimizer] },
      itemStyle: { color: optimizerColors[run.optimizer] }, showSymbol: false, silent: true,
    });
  }
  for (const optimizer of ['muon', 'adamw'] as const) {
    const finals = report.runs.filter((r) => r.optimizer === optimizer);
    series.push({
      type: 'scatter', name: `${optimizerLabels[optimizer]} final loss`, data: finals.map((r) => [r.flops, r.finalValLoss]),
      itemStyle: { color: optimizerColors[optimizer] }, symbolSize: 9,
    });
    const fit = report.fits[optimizer];
    const flops = report.runs.map((r) => r.flops).filter((f) => f > 0);
    const low = Math.min(...flops) / 1.5;
    const high = Math.max(...flops) * 1.5;
    const samples = 60;
    const line = Array.from({ length: samples }, (_, i) => {
      const f = low * (high / low) ** (i / (samples - 1));
      return [f, lossAtCompute(fit, f)];
    });
    series.push({
      type: 'line', name: `${optimizerLabels[optimizer]} fit ${fit.a.toPrecision(3)}·C^-${fit.b.toPrecision(3)} + ${fit.c.toPrecision(3)}`,
      data: line, showSymbol: false, lineStyle: { type: 'dashed', width: 2, color: optimizerColors[optimizer] },
      itemStyle: { color: optimizerColors[optimizer] },
    });
  }
  const ratio = report.computeRatio === null ? 'n/a' : `${(100 * report.computeRatio).toFixed(0)} %`;
  return {
    animation: false,
    title: { text: `Scaling: Muon vs AdamW (${report.preset}); Muon needs ${ratio} of AdamW's FLOPs for the same loss`, left: 'center', textStyle: { fontSize: 14 } },
    legend: { top: 34, type: 'plain' },
    grid: { top: 90, left: 70, right: 30, bottom: 60 },
    xAxis: { type: 'log', name: 'training FLOPs (log scale)', nameLocation: 'middle', nameGap: 32 },
    yAxis: { type: 'value', name: 'validation loss (nats per token)', scale: true, nameLocation: 'middle', nameGap: 50 },
    series,
  };
}

export function renderScalingChart(report: ScalingReport): string {
  return renderChartSvg(scalingChartOption(report), { width: 1000, height: 600 });
}
