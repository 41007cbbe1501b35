/**
 * Training checkpoints: a folder per step holding the model weights (safetensors, sharded when large),
 * the optimizer state (safetensors) and trainer_state.json (step, schedule position, RNG states, data
 * position, the run config — whatever the trainer passes). A checkpoint is written into a staging
 * folder, fsynced, and published under its final name in one atomic rename (or exchange, when a
 * checkpoint of the same step exists), so a crash at any point leaves complete checkpoints only.
 *
 *   <runDir>/checkpoints/step-00000120/{model.safetensors, optimizer.safetensors, trainer_state.json}
 */
import * as fs from 'fs';
import * as path from 'path';
import { ArgumentError, CheckpointError } from '../errors';
import { processIsAlive, writeFileDurably } from './atomic_file';
import { native } from '../native';
import type { Tensor } from '../tensor/tensor';
import {
  LoadOptions,
  loadSafetensors,
  loadShardedSafetensors,
  NamedTensors,
  saveSafetensors,
  saveShardedSafetensors,
} from './safetensors';

export const trainingCheckpointFormat = 'moonlight-training-checkpoint';
const stateFile = 'trainer_state.json';
const optimizerFile = 'optimizer.safetensors';
const stepFolder = /^step-(\d{8,})$/;
const stagingFolder = /^\.step-\d+\.tmp-(\d+)-/;

export interface TrainingCheckpointContent {
  model: NamedTensors;
  optimizer?: NamedTensors;
  /** JSON-serialisable trainer state. */
  state: Record<string, unknown>;
}

export interface SaveTrainingCheckpointOptions {
  /** Keep only the newest N checkpoints of the run (default: keep all). */
  keepLast?: number;
  maxShardBytes?: number;
}

export interface LoadedTrainingCheckpoint {
  step: number;
  path: string;
  model: Record<string, Tensor>;
  optimizer: Record<string, Tensor>;
  state: Record<string, unknown>;
}

interface Manifest {
  format: string;
  version: number;
  step: number;
  model: Record<string, number[]>;
  optimizer: Record<string, number[]>;
  state: Record<string, unknown>;
}

function namedEntries(tensors: NamedTensors): Array<[string, Tensor]> {
  if (tensors instanceof Map) return [...tensors.entries()];
  return Array.isArray(tensors) ? tensors : Object.entries(tensors);
}

function shapes(tensors: NamedTensors): Record<string, number[]> {
  return Object.fromEntries(namedEntries(tensors).map(([name, t]) => [name, [...t.shape]]));
}

export function checkpointsFolder(runDir: string): string {
  return path.join(path.resolve(runDir), 'checkpoints');
}

/** The complete checkpoints of a run, oldest first. */
export function listTrainingCheckpoints(runDir: string): Array<{ step: number; path: string }> {
  const folder = checkpointsFolder(runDir);
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder)
    .map((name) => ({ name, match: stepFolder.exec(name) }))
    .filter(({ name, match }) => match !== null && fs.existsSync(path.join(folder, name, stateFile)))
    .map(({ name, match }) => ({ step: Number(match![1]), path: path.join(folder, name) }))
    .sort((a, b) => a.step - b.step);
}

export async function saveTrainingCheckpoint(
  runDir: string,
  step: number,
  content: TrainingCheckpointContent,
  options: SaveTrainingCheckpointOptions = {},
): Promise<string> {
  if (!Number.isSafeInteger(step) || step < 0) throw new ArgumentError(`step must be a non-negative integer, got ${step}`);
  const { keepLast } = options;
  if (keepLast !== undefined && (!Number.isSafeInteger(keepLast) || keepLast < 1)) {
    throw new ArgumentError(`options.keepLast must be a positive integer, got ${keepLast}`);
  }
  const folder = checkpointsFolder(runDir);
  fs.mkdirSync(folder, { recursive: true });
  const name = `step-${String(step).padStart(8, '0')}`;
  const staging = path.join(folder, `.${name}.tmp-${process.pid}-${Date.now().toString(36)}`);
  fs.mkdirSync(staging);
  try {
    const optimizer = content.optimizer ?? {};
    await saveShardedSafetensors(staging, content.model, { maxShardBytes: options.maxShardBytes });
    await saveSafetensors(path.join(staging, optimizerFile), optimizer);
    const manifest: Manifest = {
      format: trainingCheckpointFormat,
      version: 1,
      step,
      model: shapes(content.model),
      optimizer: shapes(optimizer),
      state: content.state,
    };
    writeFileDurably(path.join(staging, stateFile), `${JSON.stringify(manifest, null, 2)}\n`);
    await native().commitCheckpointDirectory(staging, path.join(folder, name));
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  removeStale(folder, keepLast);
  return path.join(folder, name);
}

// Drops checkpoints beyond keepLast and staging folders left by processes that died mid-save.
function removeStale(folder: string, keepLast: number | undefined): void {
  for (const name of fs.readdirSync(folder)) {
    const staging = stagingFolder.exec(name);
    if (staging && Number(staging[1]) !== process.pid && !processIsAlive(Number(staging[1]))) {
      fs.rmSync(path.join(folder, name), { recursive: true, force: true });
    }
  }
  if (keepLast === undefined) return;
  const complete = listTrainingCheckpoints(path.dirname(folder));
  for (const old of complete.slice(0, Math.max(0, complete.length - keepLast))) {
    // Renamed out of sight first, so a crash mid-delete never leaves a half-deleted checkpoint listed.
    const doomed = path.join(folder, `.${path.basename(old.path)}.tmp-${process.pid}-deleting`);
    fs.renameSync(old.path, doomed);
    fs.rmSync(doomed, { recursive: true, force: true });
  }
}

function readManifest(checkpoint: string): Manifest {
  const file = path.join(checkpoint, stateFile);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
  } catch (error) {
    throw new CheckpointError(`${file}: unreadable trainer state (${(error as Error).message})`);
  }
  if (manifest?.format !== trainingCheckpointFormat || typeof manifest.step !== 'number') {
    throw new CheckpointError(`${file}: not a moonlight training checkpoint (format "${String(manifest?.format)}")`);
  }
  return manifest;
}

function checkAgainstManifest(file: string, what: string, tensors: Record<string, Tensor>, expected: Record<string, number[]>) {
  const names = Object.keys(tensors);
  const missing = Object.keys(expected).filter((n) => !(n in tensors));
  const unexpected = names.filter((n) => !(n in expected));
  if (missing.length > 0 || unexpected.length > 0) {
    throw new CheckpointError(
      `${file}: ${what} tensors do not match trainer_state.json (missing: ${missing.join(', ') || 'none'}; ` +
        `unexpected: ${unexpected.join(', ') || 'none'})`,
    );
  }
  for (const name of names) {
    if (tensors[name].shape.join(',') !== expected[name].join(',')) {
      throw new CheckpointError(`${file}: ${what} tensor "${name}" has shape [${tensors[name].shape}] but trainer_state.json says [${expected[name]}]`);
    }
  }
}

/**
 * Loads a checkpoint folder, or the newest complete checkpoint of a run folder. Model and optimizer
 * tensors are checked against the manifest written with them.
 */
export async function loadTrainingCheckpoint(location: string, options: LoadOptions = {}): Promise<LoadedTrainingCheckpoint> {
  const resolved = path.resolve(location);
  let checkpoint = resolved;
  if (!fs.existsSync(path.join(resolved, stateFile))) {
    const newest = listTrainingCheckpoints(resolved).pop();
    if (!newest) throw new CheckpointError(`${resolved}: no complete training checkpoint here or in ${checkpointsFolder(resolved)}`);
    checkpoint = newest.path;
  }
  const manifest = readManifest(checkpoint);
  const model = await loadShardedSafetensors(checkpoint, options);
  checkAgainstManifest(checkpoint, 'model', model, manifest.model);
  const optimizer = await loadSafetensors(path.join(checkpoint, optimizerFile));
  checkAgainstManifest(checkpoint, 'optimizer', optimizer, manifest.optimizer);
  return { step: manifest.step, path: checkpoint, model, optimizer, state: manifest.state };
}
