/**
 * `moonlight scaling`: the paper's Fig. 3 at small scale. For each model size of a preset, Muon and AdamW
 * train on the same data for the same token budget; AdamW's lr is picked by a small grid search at the
 * smallest size and reused for every run of both optimizers (the paper's recipe: Muon's update RMS is
 * matched to AdamW's, so it reuses AdamW's hyper-parameters). Each optimizer's final validation losses are
 * fitted against training FLOPs as a power law with offset, and the compute Muon needs for AdamW's loss is
 * reported as a ratio. Runs are ordinary Trainer run folders; a finished one found in the output folder is
 * reused rather than retrained, so an interrupted sweep continues where it stopped.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomically } from '../io/atomic_file';
import { readRun } from '../plot/run_folder';
import { Trainer } from '../train/trainer';
import type { TrainerOptions } from '../train/trainer_options';
import { ComputePoint, computeRatioAtLoss, fitPowerLawWithOffset, PowerLawFit } from './power_law_fit';
import { renderScalingChart } from './scaling_chart';
import { ScalingPreset, scalingPreset } from './scaling_presets';

export type ScalingOptimizer = 'muon' | 'adamw';

export interface ScalingOptions {
  preset?: string | ScalingPreset;
  /** Output folder: runs/, scaling.json, scaling.svg / .png. Default scaling-<preset>. */
  out?: string;
  dataset?: string;
  seed?: number;
  /** Called once per run as it starts and ends. */
  onRun?: (event: { phase: 'start' | 'end'; run: string; index: number; total: number; finalValLoss?: number }) => void;
}

export interface ScalingRunResult {
  name: string;
  folder: string;
  optimizer: ScalingOptimizer;
  size: string;
  lr: number;
  parameters: number;
  activatedParameters: number;
  tokens: number;
  flops: number;
  finalValLoss: number;
  /** Validation loss against FLOPs along the run. */
  curve: ComputePoint[];
  elapsedSeconds: number;
}

export interface ScalingReport {
  preset: string;
  dataset: string;
  lrGrid: Array<{ lr: number; finalValLoss: number }>;
  lr: number;
  weightDecay: number;
  runs: ScalingRunResult[];
  fits: Record<ScalingOptimizer, PowerLawFit>;
  /** C_Muon / C_AdamW at the final loss of each AdamW run (null where a fit does not reach it). */
  computeRatios: Array<{ loss: number; ratio: number | null }>;
  /** Geometric mean of the finite ratios: the headline number (< 1: Muon needs less compute). */
  computeRatio: number | null;
  elapsedSeconds: number;
}

function lrTag(lr: number): string {
  return lr.toExponential(0).replace('+', '');
}

/** Whether a Trainer run folder finished (run.json status 'completed'): sweeps reuse such runs. */
export function finishedRun(folder: string): boolean {
  const runJson = path.join(folder, 'run.json');
  if (!fs.existsSync(runJson)) return false;
  try {
    return (JSON.parse(fs.readFileSync(runJson, 'utf8')) as { status?: string }).status === 'completed';
  } catch {
    return false;
  }
}

function collect(folder: string, optimizer: ScalingOptimizer, size: string, lr: number): ScalingRunResult {
  const run = readRun(folder);
  const curve = run.eval.filter((p) => p.flops !== undefined && Number.isFinite(p.valLoss)).map((p) => ({ flops: p.flops!, loss: p.valLoss }));
  const last = run.eval[run.eval.length - 1];
  const result = (run.runJson.result ?? {}) as { tokens?: number; elapsedSeconds?: number };
  return {
    name: path.basename(folder), folder, optimizer, size, lr,
    parameters: run.runJson.model?.numParameters ?? 0,
    activatedParameters: run.runJson.model?.activatedParameters ?? 0,
    tokens: result.tokens ?? last?.tokens ?? 0,
    flops: last?.flops ?? 0,
    finalValLoss: last?.valLoss ?? Number.NaN,
    curve,
    elapsedSeconds: result.elapsedSeconds ?? 0,
  };
}

export async function runScaling(options: ScalingOptions = {}): Promise<ScalingReport> {
  const presetName = typeof options.preset === 'string' || options.preset === undefined ? options.preset ?? 'cpu-small' : 'custom';
  const preset = typeof options.preset === 'object' ? options.preset : scalingPreset(presetName);
  const out = path.resolve(options.out ?? `scaling-${presetName}`);
  const dataset = options.dataset ?? 'moby-dick';
  const started = Date.now();
  const smallest = preset.sizes[0];
  const totalRuns = preset.lrGrid.length + 2 * preset.sizes.length - 1;
  let index = 0;

  const train = async (optimizer: ScalingOptimizer, sizeIndex: number, lr: number): Promise<ScalingRunResult> => {
    const size = preset.sizes[sizeIndex];
    const name = `${optimizer}_${size.name}_lr${lrTag(lr)}`;
    const folder = path.join(out, 'runs', name);
    index += 1;
    options.onRun?.({ phase: 'start', run: name, index, total: totalRuns });
    if (!finishedRun(folder)) {
      fs.rmSync(folder, { recursive: true, force: true }); // an unfinished attempt starts over
      const steps = Math.max(1, Math.round(size.tokens / (preset.batchSize * preset.seqLen)));
      const trainerOptions: TrainerOptions = {
        model: preset.model, modelSize: { hiddenSize: size.hiddenSize, numLayers: size.numLayers, numHeads: size.numHeads },
        dataset, optimizer, lr, weightDecay: preset.weightDecay, batchSize: preset.batchSize, seqLen: preset.seqLen,
        maxSteps: steps, evalEvery: Math.max(1, Math.ceil(steps / preset.evalsPerRun)), evalBatches: preset.evalBatches,
        validationFraction: 0.05, seed: options.seed ?? 0, outDir: folder, diagnosticsEvery: 0,
      };
      const trainer = new Trainer(trainerOptions);
      try {
        await trainer.fit();
      } finally {
        trainer.dispose();
      }
    }
    const result = collect(folder, optimizer, size.name, lr);
    options.onRun?.({ phase: 'end', run: name, index, total: totalRuns, finalValLoss: result.finalValLoss });
    return result;
  };

  // 1. AdamW lr grid at the smallest size.
  const gridRuns: ScalingRunResult[] = [];
  for (const lr of preset.lrGrid) gridRuns.push(await train('adamw', 0, lr));
  const best = gridRuns.reduce((a, b) => (b.finalValLoss < a.finalValLoss ? b : a));
  // 2. Every size with both optimizers at that lr (the grid's best run is the smallest AdamW point).
  const runs: ScalingRunResult[] = [best];
  for (let s = 1; s < preset.sizes.length; ++s) runs.push(await train('adamw', s, best.lr));
  for (let s = 0; s < preset.sizes.length; ++s) runs.push(await train('muon', s, best.lr));

  const fitOf = (optimizer: ScalingOptimizer): PowerLawFit =>
    fitPowerLawWithOffset(runs.filter((r) => r.optimizer === optimizer).map((r) => ({ flops: r.flops, loss: r.finalValLoss })));
  const fits = { muon: fitOf('muon'), adamw: fitOf('adamw') };
  const computeRatios = runs.filter((r) => r.optimizer === 'adamw')
    .map((r) => ({ loss: r.finalValLoss, ratio: computeRatioAtLoss(fits.muon, fits.adamw, r.finalValLoss) }));
  const finite = computeRatios.map((r) => r.ratio).filter((r): r is number => r !== null && Number.isFinite(r) && r > 0);
  const computeRatio = finite.length > 0 ? Math.exp(finite.reduce((s, r) => s + Math.log(r), 0) / finite.length) : null;
  const report: ScalingReport = {
    preset: presetName, dataset, lrGrid: gridRuns.map((r) => ({ lr: r.lr, finalValLoss: r.finalValLoss })), lr: best.lr,
    weightDecay: preset.weightDecay, runs, fits, computeRatios, computeRatio, elapsedSeconds: (Date.now() - started) / 1000,
  };
  const svg = renderScalingChart(report);
  fs.mkdirSync(out, { recursive: true });
  writeFileAtomically(path.join(out, 'scaling.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileAtomically(path.join(out, 'scaling.svg'), svg);
  const { svgToPng } = await import('../plot/png');
  writeFileAtomically(path.join(out, 'scaling.png'), svgToPng(svg));
  return report;
}
