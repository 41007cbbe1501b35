/**
 * `moonlight compare`: two or more training configurations run one after another on the same model, data,
 * seed and steps (e.g. Muon with and without weight decay, Muon vs AdamW), with the paper's diagnostics
 * on, then plotted together: loss, weight RMS and update RMS of the hidden matrices against step (the
 * paper's Fig. 2 shows weight decay keeping the weight RMS bounded; Lemma 1 puts Muon's update RMS at 0.2).
 * A configuration whose run folder already finished is reused, not retrained.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { EChartsOption } from 'echarts';
import { ArgumentError } from '../errors';
import { writeFileAtomically } from '../io/atomic_file';
import { runColor } from '../plot/chart_options';
import { renderChartSvg } from '../plot/loss_chart';
import { svgToPng } from '../plot/png';
import { readDiagnostics } from '../plot/diagnostics_chart';
import { Trainer } from '../train/trainer';
import { finishedRun } from './scaling_run';
import { notHiddenMatrix } from './update_rms_match';
import type { TrainerOptions } from '../train/trainer_options';
import type { QkClipOptions } from '../train/step_diagnostics';

export interface CompareConfig {
  name: string;
  optimizer: 'muon' | 'adamw';
  lr?: number;
  weightDecay?: number;
  qkClip?: QkClipOptions | null;
}

export interface CompareOptions {
  configs: CompareConfig[];
  /** Output folder: runs/<name>/, compare-*.svg / .png, compare.json. */
  out: string;
  /** Everything the configurations share (model, dataset, steps, batch, …). */
  common?: Omit<TrainerOptions, 'optimizer' | 'qkClip' | 'outDir' | 'resume'>;
  onRun?: (event: { phase: 'start' | 'end'; config: string; index: number; total: number }) => void;
}

/** Per config: the loss and the mean RMS over hidden-matrix types, per logged step. */
export interface CompareSeries {
  name: string;
  folder: string;
  loss: Array<[number, number]>;
  weightRms: Array<[number, number]>;
  updateRms: Array<[number, number]>;
}

/** "name=muon-wd0,optimizer=muon,lr=2e-3,wd=0,qk_clip=100" → a CompareConfig. */
export function parseCompareConfig(spec: string): CompareConfig {
  const config: CompareConfig = { name: '', optimizer: 'muon' };
  for (const part of spec.split(',').map((p) => p.trim()).filter((p) => p.length > 0)) {
    const [key, value] = part.split('=', 2).map((s) => s.trim());
    if (value === undefined || value === '') throw new ArgumentError(`--config '${spec}': '${part}' is not key=value`);
    const numberValue = (): number => {
      const parsed = Number(value);
      if (!Number.isFinite(parsed) || parsed < 0) throw new ArgumentError(`--config '${spec}': ${key} must be a number ≥ 0, got '${value}'`);
      return parsed;
    };
    if (key === 'name') config.name = value;
    else if (key === 'optimizer') {
      if (value !== 'muon' && value !== 'adamw') throw new ArgumentError(`--config '${spec}': optimizer must be muon or adamw`);
      config.optimizer = value;
    } else if (key === 'lr') config.lr = numberValue();
    else if (key === 'wd') config.weightDecay = numberValue();
    else if (key === 'qk_clip') config.qkClip = { threshold: numberValue() };
    else throw new ArgumentError(`--config '${spec}': unknown key '${key}'; the keys are name, optimizer, lr, wd, qk_clip`);
  }
  if (config.name === '') {
    config.name = [config.optimizer, config.lr !== undefined ? `lr${config.lr}` : '', config.weightDecay !== undefined ? `wd${config.weightDecay}` : '']
      .filter((s) => s !== '').join('_');
  }
  if (!/^[A-Za-z0-9._-]+$/.test(config.name)) throw new ArgumentError(`--config '${spec}': name '${config.name}' must be a plain folder name`);
  return config;
}

function readSeries(name: string, folder: string): CompareSeries {
  const series: CompareSeries = { name, folder, loss: [], weightRms: [], updateRms: [] };
  const mean = (record: Record<string, number> | undefined): number | null => {
    const values = Object.entries(record ?? {}).filter(([type]) => !notHiddenMatrix(type)).map(([, v]) => v);
    return values.length === 0 ? null : values.reduce((s, v) => s + v, 0) / values.length;
  };
  for (const record of readDiagnostics(folder, true)) {
    if (typeof record.loss === 'number') series.loss.push([record.step, record.loss]);
    const weight = mean(record.weightRms);
    const update = mean(record.updateRms);
    if (weight !== null) series.weightRms.push([record.step, weight]);
    if (update !== null) series.updateRms.push([record.step, update]);
  }
  return series;
}

function lineChart(series: readonly CompareSeries[], pick: (s: CompareSeries) => Array<[number, number]>, title: string, yName: string): EChartsOption {
  return {
    animation: false,
    title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
    legend: { top: 28 },
    grid: { top: 70, left: 70, right: 30, bottom: 55 },
    xAxis: { type: 'value', name: 'optimizer step', nameLocation: 'middle', nameGap: 30 },
    yAxis: { type: 'value', name: yName, scale: true, nameLocation: 'middle', nameGap: 50 },
    series: series.map((s, i) => ({
      type: 'line', name: s.name, data: pick(s), showSymbol: false, lineStyle: { width: 1.5, color: runColor(i) }, itemStyle: { color: runColor(i) },
    })),
  };
}

export const compareCharts = [
  { file: 'compare-loss', title: 'Training loss', yName: 'loss (nats per token)', pick: (s: CompareSeries) => s.loss },
  { file: 'compare-weight-rms', title: 'Weight RMS of the hidden matrices (mean over matrix types)', yName: 'weight RMS', pick: (s: CompareSeries) => s.weightRms },
  { file: 'compare-update-rms', title: 'Update RMS of the hidden matrices (after scaling, before lr)', yName: 'update RMS', pick: (s: CompareSeries) => s.updateRms },
] as const;

export async function runCompare(options: CompareOptions): Promise<{ series: CompareSeries[]; files: string[] }> {
  if (!Array.isArray(options.configs) || options.configs.length < 2) throw new ArgumentError('compare needs at least two configurations');
  const names = options.configs.map((c) => c.name);
  if (new Set(names).size !== names.length) throw new ArgumentError(`compare: configuration names must differ, got ${names.join(', ')}`);
  const out = path.resolve(options.out);
  const series: CompareSeries[] = [];
  for (const [i, config] of options.configs.entries()) {
    const folder = path.join(out, 'runs', config.name);
    options.onRun?.({ phase: 'start', config: config.name, index: i + 1, total: options.configs.length });
    if (!finishedRun(folder)) {
      fs.rmSync(folder, { recursive: true, force: true });
      const trainer = new Trainer({
        diagnosticsEvery: 5, ...options.common, optimizer: config.optimizer, lr: config.lr ?? options.common?.lr,
        weightDecay: config.weightDecay ?? options.common?.weightDecay, qkClip: config.qkClip ?? null, outDir: folder,
      });
      try {
        await trainer.fit();
      } finally {
        trainer.dispose();
      }
    }
    series.push(readSeries(config.name, folder));
    options.onRun?.({ phase: 'end', config: config.name, index: i + 1, total: options.configs.length });
  }
  const outputs: Array<{ file: string; contents: string | Buffer }> = [];
  for (const chart of compareCharts) {
    const svg = renderChartSvg(lineChart(series, chart.pick, chart.title, chart.yName), { width: 960, height: 540 });
    outputs.push({ file: path.join(out, `${chart.file}.svg`), contents: svg }, { file: path.join(out, `${chart.file}.png`), contents: svgToPng(svg) });
  }
  outputs.push({ file: path.join(out, 'compare.json'), contents: `${JSON.stringify({ configs: options.configs, series }, null, 2)}\n` });
  for (const output of outputs) writeFileAtomically(output.file, output.contents);
  return { series, files: outputs.map((o) => o.file) };
}
