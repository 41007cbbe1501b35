/**
 * The scaling sweep's chart, laid out like the paper's Fig. 3: final validation loss against training FLOPs
 * (log axis), one colour per curve (AdamW, and Muon at AdamW's lr, at its own lr, with AdamW's update RMS);
 * each size's point is the mean over seeds with a bar of ± one sample standard deviation, and each curve's
 * fitted power law with offset is drawn dashed across the swept compute range.
 */
import type { EChartsOption, SeriesOption } from 'echarts';
import { renderChartSvg } from '../plot/loss_chart';
import { lossAtCompute, PowerLawFit } from './power_law_fit';
import type { CurveName, ScalingReport } from './scaling';

const curveColors: Record<CurveName, string> = {
  adamw: '#e4572e', 'muon-adamw-lr': '#2f6fdf', 'muon-tuned': '#1b9e77', 'muon-rms-from-adamw': '#7b3fbf',
};
const curveLabels: Record<CurveName, string> = {
  adamw: 'AdamW', 'muon-adamw-lr': "Muon, AdamW's lr", 'muon-tuned': 'Muon, own lr', 'muon-rms-from-adamw': "Muon, AdamW's update RMS",
};

const chartWidthPixels = 1200;
const legendWidthPixels = 430;

/** A fit's formula for the legend: the offset c is a loss in nats, so three decimals (a fitted 2e-14 reads 0.000). */
function fitFormula(fit: PowerLawFit): string {
  return `${fit.a.toPrecision(3)}·C^-${fit.b.toPrecision(3)} + ${fit.c.toFixed(3)}`;
}

function ratioText(report: ScalingReport): string {
  return report.comparisons.map((c) => {
    const ratio = c.ratio === null ? 'n/a' : c.ratio.toFixed(2);
    const interval = c.interval === null ? '' : ` [${c.interval.low.toFixed(2)}, ${c.interval.high.toFixed(2)}]`;
    return `${curveLabels[c.muonCurve]}: ${ratio}${interval}`;
  }).join('; ');
}

export function scalingChartOption(report: ScalingReport): EChartsOption {
  const series: SeriesOption[] = [];
  const flops = report.curves.flatMap((c) => c.points.map((p) => p.flops)).filter((f) => f > 0);
  const low = Math.min(...flops) / 1.3;
  const high = Math.max(...flops) * 1.3;
  const fitOf = (name: CurveName): PowerLawFit | undefined =>
    name === 'adamw' ? report.comparisons[0]?.fits.adamw : report.comparisons.find((c) => c.muonCurve === name)?.fits.muon;
  for (const curve of report.curves) {
    const color = curveColors[curve.name];
    const label = curveLabels[curve.name];
    series.push({ type: 'scatter', name: label, data: curve.points.map((p) => [p.flops, p.meanLoss]), itemStyle: { color }, symbolSize: 8 });
    for (const p of curve.points) {
      series.push({
        type: 'line', name: label, data: [[p.flops, p.meanLoss - p.sdLoss], [p.flops, p.meanLoss + p.sdLoss]],
        showSymbol: false, silent: true, lineStyle: { width: 2, color }, itemStyle: { color },
      });
    }
    const fit = fitOf(curve.name);
    if (fit === undefined) continue;
    const samples = 60;
    const line = Array.from({ length: samples }, (_, i) => {
      const f = low * (high / low) ** (i / (samples - 1));
      return [f, lossAtCompute(fit, f)];
    });
    series.push({
      type: 'line', name: `${curveLabels[curve.name]} fit ${fitFormula(fit)}`,
      data: line, showSymbol: false, lineStyle: { type: 'dashed', width: 1.5, color }, itemStyle: { color },
    });
  }
  return {
    animation: false,
    title: {
      text: `Scaling: Muon vs AdamW (${report.preset})`,
      subtext: `points: mean ± sample sd over ${report.seeds.length} seeds; dashed: fits. C_Muon / C_AdamW at equal loss [90 % interval over seeds]:\n${ratioText(report)}`,
      left: 'center', textStyle: { fontSize: 14 }, subtextStyle: { fontSize: 11 },
    },
    // The legend starts at a fixed x beside the plot rather than ending at the right edge: an edge-anchored
    // legend is placed by ECharts' estimate of its text width, and a wider font at rendering time pushed the
    // longest fit label past the canvas. legendWidthPixels, less the icon, holds its ~50 characters in any 11 px face.
    legend: { top: 90, left: chartWidthPixels - legendWidthPixels, orient: 'vertical', type: 'plain', textStyle: { fontSize: 11 } },
    grid: { top: 90, left: 70, right: legendWidthPixels + 20, bottom: 60 },
    xAxis: { type: 'log', name: 'training FLOPs (log scale)', nameLocation: 'middle', nameGap: 32, min: low, max: high },
    yAxis: { type: 'value', name: 'final validation loss (nats per token)', scale: true, nameLocation: 'middle', nameGap: 50 },
    series,
  };
}

export function renderScalingChart(report: ScalingReport): string {
  return renderChartSvg(scalingChartOption(report), { width: chartWidthPixels, height: 680 });
}
