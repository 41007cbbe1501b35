/**
 * One training run of the scaling sweep: a Trainer run folder per (optimizer, size, lr, seed[, update
 * scales]), its token budget by the preset's rule, and what the sweep reads back from it. A finished folder
 * is reused rather than retrained, so an interrupted sweep continues where it stopped; a folder trained with
 * other update scales (its AdamW reference was retrained) starts over.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../errors';
import { parseModelConfig } from '../models/config';
import { nativeParameterCounts } from '../models/parameter_count';
import { readRun } from '../plot/run_folder';
import { presetConfig } from '../train/model_presets';
import { Trainer } from '../train/trainer';
import type { ComputePoint } from './power_law_fit';
import type { ScalingPreset, ScalingSize } from './scaling_presets';

export type ScalingOptimizer = 'muon' | 'adamw';

export interface ScalingRunSpec {
  optimizer: ScalingOptimizer;
  size: ScalingSize;
  lr: number;
  seed: number;
  /** Trainer updateScaleByMatrixType (the update-RMS match); unset: none. */
  updateScaleByMatrixType?: Record<string, number>;
}

export interface ScalingRunResult {
  name: string;
  folder: string;
  optimizer: ScalingOptimizer;
  size: string;
  lr: number;
  seed: number;
  updateScaleByMatrixType?: Record<string, number>;
  parameters: number;
  activatedParameters: number;
  tokens: number;
  flops: number;
  finalValLoss: number;
  /** Validation loss against FLOPs along the run. */
  curve: ComputePoint[];
  elapsedSeconds: number;
}

/** Whether a Trainer run folder finished (run.json status 'completed'): sweeps reuse such runs. */
export function finishedRun(folder: string): boolean {
  return runJson(folder)?.status === 'completed';
}

function runJson(folder: string): { status?: string; optimizer?: { updateScaleByMatrixType?: Record<string, number> } } | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(folder, 'run.json'), 'utf8')) as ReturnType<typeof runJson>;
  } catch {
    return null;
  }
}

/** Activated parameters excluding embeddings of a size (independent of the vocabulary, so any vocab size serves). */
export function activatedNonEmbeddingParameters(preset: ScalingPreset, size: ScalingSize): number {
  const config = parseModelConfig(presetConfig(preset.model, {
    vocabSize: 256, maxPositions: preset.seqLen, hiddenSize: size.hiddenSize, numLayers: size.numLayers, numHeads: size.numHeads,
  }));
  return nativeParameterCounts(config).activatedExcludingEmbeddings;
}

/** Training tokens of a size: its own `tokens`, else tokensPerParameter × activated non-embedding parameters. */
export function tokenBudget(preset: ScalingPreset, size: ScalingSize): number {
  if (size.tokens !== undefined) return size.tokens;
  if (preset.tokensPerParameter === undefined) throw new ConfigError(`scaling size ${size.name} has no tokens and its preset no tokensPerParameter`);
  return Math.round(preset.tokensPerParameter * activatedNonEmbeddingParameters(preset, size));
}

/** 'muon_h32_lr5.00e-3_seed0', with '_rms' for a run with update scales. */
export function runName(spec: ScalingRunSpec): string {
  const lr = spec.lr.toExponential(2).replace('+', '');
  return `${spec.optimizer}_${spec.size.name}_lr${lr}_seed${spec.seed}${spec.updateScaleByMatrixType !== undefined ? '_rms' : ''}`;
}

function collect(folder: string, spec: ScalingRunSpec): ScalingRunResult {
  const run = readRun(folder);
  const curve = run.eval.filter((p) => p.flops !== undefined && Number.isFinite(p.valLoss)).map((p) => ({ flops: p.flops!, loss: p.valLoss }));
  const last = run.eval[run.eval.length - 1];
  const result = (run.runJson.result ?? {}) as { tokens?: number; elapsedSeconds?: number };
  return {
    name: path.basename(folder), folder, optimizer: spec.optimizer, size: spec.size.name, lr: spec.lr, seed: spec.seed,
    ...(spec.updateScaleByMatrixType !== undefined ? { updateScaleByMatrixType: spec.updateScaleByMatrixType } : {}),
    parameters: run.runJson.model?.numParameters ?? 0,
    activatedParameters: run.runJson.model?.activatedParameters ?? 0,
    tokens: result.tokens ?? last?.tokens ?? 0,
    flops: last?.flops ?? 0,
    finalValLoss: last?.valLoss ?? Number.NaN,
    curve,
    elapsedSeconds: result.elapsedSeconds ?? 0,
  };
}

/** Trains the run into `runsFolder`/<name> unless a finished one with the same update scales is there. */
export async function trainScalingRun(preset: ScalingPreset, runsFolder: string, dataset: string, spec: ScalingRunSpec): Promise<ScalingRunResult> {
  const folder = path.join(runsFolder, runName(spec));
  const saved = runJson(folder);
  const sameScales = JSON.stringify(saved?.optimizer?.updateScaleByMatrixType) === JSON.stringify(spec.updateScaleByMatrixType);
  if (saved?.status !== 'completed' || !sameScales) {
    fs.rmSync(folder, { recursive: true, force: true }); // an unfinished or outdated attempt starts over
    const steps = Math.max(1, Math.round(tokenBudget(preset, spec.size) / (preset.batchSize * preset.seqLen)));
    const trainer = new Trainer({
      model: preset.model, modelSize: { hiddenSize: spec.size.hiddenSize, numLayers: spec.size.numLayers, numHeads: spec.size.numHeads },
      dataset, optimizer: spec.optimizer, lr: spec.lr, weightDecay: preset.weightDecay, batchSize: preset.batchSize, seqLen: preset.seqLen,
      maxSteps: steps, evalEvery: Math.max(1, Math.ceil(steps / preset.evalsPerRun)), evalBatches: preset.evalBatches,
      validationFraction: 0.05, seed: spec.seed, outDir: folder, diagnosticsEvery: preset.diagnosticsEvery,
      ...(spec.updateScaleByMatrixType !== undefined ? { updateScaleByMatrixType: spec.updateScaleByMatrixType } : {}),
    });
    try {
      await trainer.fit();
    } finally {
      trainer.dispose();
    }
  }
  return collect(folder, spec);
}
