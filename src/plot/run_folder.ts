/**
 * Reading a training run folder as the Trainer writes it: run.json (what was trained, how) and
 * metrics.jsonl (one JSON object a line, `"type": "train"` or `"type": "eval"`).
 *
 * The reader is lenient where a live or killed run legitimately leaves odd data — blank lines, extra keys,
 * line types it does not know yet, a last line cut off mid-write — and strict everywhere else, so a corrupt
 * file is reported with its path and line number instead of silently plotting a wrong curve.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ArgumentError, ConfigError } from '../errors';

/** One `"type": "train"` line of metrics.jsonl. Fields the Trainer did not log are undefined. */
export interface TrainPoint {
  step: number;
  /** Training tokens consumed up to and including this step. */
  tokens?: number;
  /** Training FLOPs spent up to and including this step. */
  flops?: number;
  /** NaN when the Trainer logged a non-finite loss as null. */
  loss: number;
  lr?: number;
  gradNorm?: number;
  tokensPerSecond?: number;
  elapsedSeconds?: number;
}

/** One `"type": "eval"` line of metrics.jsonl. */
export interface EvalPoint {
  step: number;
  tokens?: number;
  flops?: number;
  /** NaN when the Trainer logged a non-finite validation loss as null. */
  valLoss: number;
}

/** run.json: the keys the plots read are typed; everything else the Trainer writes is kept as is. */
export interface RunJson {
  name?: string;
  createdAt?: string;
  model?: { type?: string; numParameters?: number; activatedParameters?: number; [key: string]: unknown };
  optimizer?: { type?: string; lr?: number; weightDecay?: number; [key: string]: unknown };
  schedule?: Record<string, unknown>;
  batchSize?: number;
  seqLen?: number;
  gradAccum?: number;
  flopsPerToken?: number;
  status?: string;
  [key: string]: unknown;
}

/** A run folder, read. */
export interface PlotRun {
  /** run.json's name, or the folder's name when run.json has none. */
  name: string;
  /** The folder, resolved to an absolute path. */
  folder: string;
  /** run.json's contents; {} when the folder has no run.json (metrics alone are enough to plot). */
  runJson: RunJson;
  train: TrainPoint[];
  eval: EvalPoint[];
}

export const metricsFileName = 'metrics.jsonl';
export const runJsonFileName = 'run.json';

/** Reads run.json and metrics.jsonl of a run folder; throws ArgumentError / ConfigError naming the file. */
export function readRun(folder: string): PlotRun {
  if (typeof folder !== 'string' || folder.length === 0) {
    throw new ArgumentError(`readRun: folder must be a run folder path, got ${JSON.stringify(folder)}`);
  }
  const resolved = path.resolve(folder);
  if (!fs.existsSync(resolved)) {
    throw new ArgumentError(`${resolved}: no such run folder; pass the folder the Trainer wrote (it holds ${metricsFileName})`);
  }
  if (!fs.statSync(resolved).isDirectory()) {
    throw new ArgumentError(`${resolved}: not a folder; pass the run folder that holds ${metricsFileName}, not a file`);
  }
  const runJson = readRunJson(path.join(resolved, runJsonFileName));
  const metricsFile = path.join(resolved, metricsFileName);
  if (!fs.existsSync(metricsFile)) {
    throw new ConfigError(`${metricsFile}: missing; is ${resolved} a run folder? The Trainer writes ${metricsFileName} at its first logged step`);
  }
  const { train, eval: evals } = parseMetrics(fs.readFileSync(metricsFile, 'utf8'), metricsFile);
  if (train.length === 0 && evals.length === 0) {
    throw new ConfigError(`${metricsFile}: no train or eval lines yet; plot again once the run has logged a step`);
  }
  const name = typeof runJson.name === 'string' && runJson.name.length > 0 ? runJson.name : path.basename(resolved);
  return { name, folder: resolved, runJson, train, eval: evals };
}

function readRunJson(file: string): RunJson {
  if (!fs.existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${file}: not valid JSON (${(error as Error).message}); fix or remove the file`, { cause: error });
  }
  if (!isRecord(parsed)) throw new ConfigError(`${file}: expected a JSON object, got ${describe(parsed)}`);
  return parsed as RunJson;
}

/**
 * Parses the text of a metrics.jsonl. `file` only names the file in errors. Blank lines and lines of other
 * types are skipped; an unparsable last line without its newline is a write the run did not finish, so it
 * is dropped; any other unparsable or ill-typed line is a ConfigError naming file and line.
 */
export function parseMetrics(text: string, file: string): { train: TrainPoint[]; eval: EvalPoint[] } {
  const train: TrainPoint[] = [];
  const evals: EvalPoint[] = [];
  const lines = text.split('\n');
  // split() leaves '' after a final newline; any other last element is a line whose write did not finish.
  const lastLineUnfinished = lines[lines.length - 1] !== '';
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `${file}:${index + 1}`;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      if (lastLineUnfinished && index === lines.length - 1) return;
      throw new ConfigError(`${where}: not valid JSON (${(error as Error).message}); each line must be one JSON object`, { cause: error });
    }
    if (!isRecord(record)) throw new ConfigError(`${where}: expected a JSON object, got ${describe(record)}`);
    if (record.type === 'train') train.push(trainPoint(record, where));
    else if (record.type === 'eval') evals.push(evalPoint(record, where));
    else if (typeof record.type !== 'string') {
      throw new ConfigError(`${where}: expected a "type" key ("train" or "eval"), got ${describe(record.type)}`);
    }
    // Other types (checkpoints, notes, …) are the Trainer's business: not plotted.
  });
  return { train, eval: evals };
}

function trainPoint(record: Record<string, unknown>, where: string): TrainPoint {
  return {
    step: requiredStep(record, where),
    loss: lossValue(record, 'loss', where),
    tokens: optionalNumber(record, 'tokens', where),
    flops: optionalNumber(record, 'flops', where),
    lr: optionalNumber(record, 'lr', where),
    gradNorm: optionalNumber(record, 'gradNorm', where),
    tokensPerSecond: optionalNumber(record, 'tokensPerSecond', where),
    elapsedSeconds: optionalNumber(record, 'elapsedSeconds', where),
  };
}

function evalPoint(record: Record<string, unknown>, where: string): EvalPoint {
  return {
    step: requiredStep(record, where),
    valLoss: lossValue(record, 'valLoss', where),
    tokens: optionalNumber(record, 'tokens', where),
    flops: optionalNumber(record, 'flops', where),
  };
}

function requiredStep(record: Record<string, unknown>, where: string): number {
  const step = record.step;
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
    throw new ConfigError(`${where}: "step" must be a non-negative integer, got ${describe(step)}`);
  }
  return step;
}

/** A loss must be there; null stands for a non-finite value (JSON has no NaN), which the plots leave out. */
function lossValue(record: Record<string, unknown>, key: string, where: string): number {
  const value = record[key];
  if (value === null) return Number.NaN;
  if (typeof value !== 'number') throw new ConfigError(`${where}: "${key}" must be a number (or null), got ${describe(value)}`);
  return value;
}

function optionalNumber(record: Record<string, unknown>, key: string, where: string): number | undefined {
  const value = record[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') throw new ConfigError(`${where}: "${key}" must be a number, got ${describe(value)}`);
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
