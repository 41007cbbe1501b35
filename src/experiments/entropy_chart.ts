/** `moonlight analyze`'s plot: mean SVD entropy per matrix type, one bar per checkpoint (as the paper's spectral comparison). */
import type { EChartsOption } from 'echarts';
import { runColor } from '../plot/chart_options';
import { renderChartSvg } from '../plot/loss_chart';
import type { CheckpointEntropy } from './svd_entropy';

export function entropyChartOption(results: readonly CheckpointEntropy[], labels: readonly string[]): EChartsOption {
  const types = [...new Set(results.flatMap((r) => r.types.map((t) => t.type)))];
  return {
    animation: false,
    title: { text: 'SVD entropy by matrix type (higher: a more even singular-value spectrum)', left: 'center', textStyle: { fontSize: 14 } },
    legend: { top: 28 },
    grid: { top: 70, left: 60, right: 20, bottom: 110 },
    // An array: the shared numeric axis-label formatter (plot/chart_options.ts) is for value axes only.
    xAxis: [{ type: 'category', data: types, axisLabel: { rotate: 35 } }],
    yAxis: { type: 'value', name: 'normalised SVD entropy', scale: true, nameLocation: 'middle', nameGap: 45 },
    series: results.map((result, i) => ({
      type: 'bar', name: labels[i], itemStyle: { color: runColor(i) },
      data: types.map((type) => result.types.find((t) => t.type === type)?.mean ?? null),
    })),
  };
}

export function renderEntropyChart(results: readonly CheckpointEntropy[], labels: readonly string[]): string {
  return renderChartSvg(entropyChartOption(results, labels), { width: 1000, height: 560 });
}
