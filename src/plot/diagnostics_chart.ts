/**
 * Charts of a run's training diagnostics (src/train/step_diagnostics.ts) from its metrics.jsonl: update RMS
 * and weight RMS per matrix type, and the max attention logit per MLA layer, against step. Runs without
 * diagnostic records give no charts.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { EChartsOption } from 'echarts';
import { runColor } from './chart_options';
import { renderChartSvg } from './loss_chart';
import { metricsFileName } from './run_folder';

export interface DiagnosticLine {
  step: number;
  loss?: number;
  updateRms?: Record<string, number>;
  weightRms?: Record<string, number>;
  maxAttentionLogit?: number[];
}

/** The train records of a run's metrics.jsonl that carry diagnostics (all train records with `all`). */
export function readDiagnostics(folder: string, all = false): DiagnosticLine[] {
  const file = path.join(folder, metricsFileName);
  if (!fs.existsSync(file)) return [];
  const lines: DiagnosticLine[] = [];
  for (const text of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!text.includes('"updateRms"') && !text.includes('"maxAttentionLogit"') && !all) continue;
    try {
      const record = JSON.parse(text) as DiagnosticLine & { type?: string };
      if (record.type === 'train') lines.push(record);
    } catch {
      // a line cut off by a killed run: the run folder reader reports real corruption
    }
  }
  return lines;
}

function chart(title: string, yName: string, series: Map<string, Array<[number, number]>>): EChartsOption {
  return {
    animation: false,
    title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
    legend: { top: 28, type: 'scroll' },
    grid: { top: 80, left: 70, right: 30, bottom: 55 },
    xAxis: { type: 'value', name: 'optimizer step', nameLocation: 'middle', nameGap: 30 },
    yAxis: { type: 'value', name: yName, scale: true, nameLocation: 'middle', nameGap: 50 },
    series: [...series.entries()].map(([name, data], i) => ({
      type: 'line', name, data, showSymbol: false, lineStyle: { width: 1.5, color: runColor(i) }, itemStyle: { color: runColor(i) },
    })),
  };
}

function perKey(lines: DiagnosticLine[], pick: (line: DiagnosticLine) => Record<string, number> | undefined): Map<string, Array<[number, number]>> {
  const series = new Map<string, Array<[number, number]>>();
  for (const line of lines) {
    for (const [key, value] of Object.entries(pick(line) ?? {})) {
      if (!series.has(key)) series.set(key, []);
      series.get(key)!.push([line.step, value]);
    }
  }
  return series;
}

/** { name, svg } per diagnostics chart of the run folder (none without diagnostic records). */
export function renderDiagnosticsCharts(folder: string, size: { width?: number; height?: number } = {}): Array<{ name: string; svg: string }> {
  const lines = readDiagnostics(folder);
  if (lines.length === 0) return [];
  const charts: Array<{ name: string; svg: string }> = [];
  const update = perKey(lines, (l) => l.updateRms);
  if (update.size > 0) charts.push({ name: 'update-rms', svg: renderChartSvg(chart('Update RMS per matrix type (after scaling, before lr)', 'update RMS', update), size) });
  const weight = perKey(lines, (l) => l.weightRms);
  if (weight.size > 0) charts.push({ name: 'weight-rms', svg: renderChartSvg(chart('Weight RMS per matrix type', 'weight RMS', weight), size) });
  const logits = perKey(lines, (l) => l.maxAttentionLogit && Object.fromEntries(l.maxAttentionLogit.map((v, i) => [`layer ${i}`, v])));
  if (logits.size > 0) charts.push({ name: 'max-attention-logit', svg: renderChartSvg(chart('Max attention logit per layer', 'max pre-softmax logit', logits), size) });
  return charts;
}
