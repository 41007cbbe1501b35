/**
 * SVD entropy of weight matrices (cpp/analysis/svd_entropy.h computes it natively, off the JS thread) and
 * `moonlight analyze`'s comparison of checkpoints by matrix type. Definition, as the Moonlight paper's
 * spectral analysis: p_i = σ_i² / Σ_j σ_j², H = −Σ p_i log p_i / log n, n = min(rows, cols).
 */
import * as fs from 'fs';
import * as path from 'path';
import { ArgumentError, CheckpointError } from '../errors';
import { loadShardedSafetensors } from '../io/safetensors';
import { loadTrainingCheckpoint } from '../io/training_checkpoint';
import { native } from '../native';
import { operandHandle, Tensor } from '../tensor/tensor';

/** One entropy per matrix of `weights` ([A, B] or a stack [..., A, B]). */
export async function svdEntropy(weights: Tensor): Promise<number[]> {
  return native().svdEntropy(operandHandle(weights, 'weights'));
}

/** The matrix type of a parameter name, as the step diagnostics group them ("q_proj", "experts.up_proj", …). */
export function matrixType(parameterName: string): string {
  if (typeof parameterName !== 'string') throw new ArgumentError('matrixType: parameterName must be a string');
  return native().matrixType(parameterName);
}

export interface MatrixTypeEntropy {
  type: string;
  matrices: number;
  mean: number;
  min: number;
  max: number;
}

export interface CheckpointEntropy {
  checkpoint: string;
  types: MatrixTypeEntropy[];
}

/** Weights of a training checkpoint (folder or run folder: the newest one), an HF folder or a .safetensors file. */
async function loadWeights(location: string): Promise<Record<string, Tensor>> {
  const resolved = path.resolve(location);
  if (!fs.existsSync(resolved)) throw new CheckpointError(`${resolved}: no such checkpoint, run folder or model folder`);
  const isTraining = fs.statSync(resolved).isDirectory() &&
    (fs.existsSync(path.join(resolved, 'trainer_state.json')) || fs.existsSync(path.join(resolved, 'checkpoints')));
  if (isTraining) {
    const checkpoint = await loadTrainingCheckpoint(resolved);
    for (const t of Object.values(checkpoint.optimizer)) t.dispose();
    return checkpoint.model;
  }
  return loadShardedSafetensors(resolved);
}

/** SVD entropy of every ≥ 2-D weight of each checkpoint, grouped by matrix type (embeddings and lm_head included). */
export async function analyzeCheckpoints(locations: readonly string[]): Promise<CheckpointEntropy[]> {
  if (locations.length === 0) throw new ArgumentError('name at least one checkpoint to analyze');
  const results: CheckpointEntropy[] = [];
  for (const location of locations) {
    const weights = await loadWeights(location);
    const byType = new Map<string, number[]>();
    try {
      for (const [name, tensor] of Object.entries(weights)) {
        if (tensor.shape.length < 2 || name.endsWith('.bias')) continue;
        const values = await svdEntropy(tensor);
        const type = matrixType(name);
        byType.set(type, [...(byType.get(type) ?? []), ...values]);
      }
    } finally {
      for (const t of Object.values(weights)) t.dispose();
    }
    results.push({
      checkpoint: path.resolve(location),
      types: [...byType.entries()].map(([type, values]) => ({
        type, matrices: values.length, mean: values.reduce((s, v) => s + v, 0) / values.length,
        min: Math.min(...values), max: Math.max(...values),
      })),
    });
  }
  return results;
}

/** A text table: one row per matrix type, one column per checkpoint (mean entropy over its matrices). */
export function entropyTable(results: readonly CheckpointEntropy[], labels: readonly string[]): string {
  const types = [...new Set(results.flatMap((r) => r.types.map((t) => t.type)))];
  const header = ['matrix type', ...labels];
  const rows = types.map((type) => [type, ...results.map((r) => {
    const entry = r.types.find((t) => t.type === type);
    return entry === undefined ? '-' : entry.mean.toFixed(4);
  })]);
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => row[i].length)));
  const line = (row: string[]): string => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
