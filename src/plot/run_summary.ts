/** One row of facts per run, from run.json and the last logged metrics: what the report's table shows. */
import type { PlotRun } from './run_folder';

export interface RunSummary {
  name: string;
  folder: string;
  status?: string;
  createdAt?: string;
  modelType?: string;
  numParameters?: number;
  activatedParameters?: number;
  optimizerType?: string;
  lr?: number;
  weightDecay?: number;
  /** The last logged train step. */
  steps?: number;
  /** The last finite train loss. */
  finalLoss?: number;
  /** The last finite validation loss. */
  finalValLoss?: number;
  /** Training tokens at the last logged step. */
  tokens?: number;
  /** Training FLOPs at the last logged step. */
  flops?: number;
  /** Wall time at the last logged step, in seconds. */
  wallSeconds?: number;
}

export function summarizeRun(run: PlotRun): RunSummary {
  const { runJson } = run;
  const lastTrain = run.train[run.train.length - 1];
  return {
    name: run.name,
    folder: run.folder,
    status: stringOrUndefined(runJson.status),
    createdAt: stringOrUndefined(runJson.createdAt),
    modelType: stringOrUndefined(runJson.model?.type),
    numParameters: numberOrUndefined(runJson.model?.numParameters),
    activatedParameters: numberOrUndefined(runJson.model?.activatedParameters),
    optimizerType: stringOrUndefined(runJson.optimizer?.type),
    lr: numberOrUndefined(runJson.optimizer?.lr),
    weightDecay: numberOrUndefined(runJson.optimizer?.weightDecay),
    steps: lastTrain?.step,
    finalLoss: lastFinite(run.train.map((p) => p.loss)),
    finalValLoss: lastFinite(run.eval.map((p) => p.valLoss)),
    tokens: lastDefined(run.train.map((p) => p.tokens)),
    flops: lastDefined(run.train.map((p) => p.flops)),
    wallSeconds: lastDefined(run.train.map((p) => p.elapsedSeconds)),
  };
}

/** "1:02:03" / "4:05" style wall time. */
export function formatDuration(seconds: number): string {
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

function lastFinite(values: readonly number[]): number | undefined {
  for (let i = values.length - 1; i >= 0; i--) if (Number.isFinite(values[i])) return values[i];
  return undefined;
}

function lastDefined(values: ReadonlyArray<number | undefined>): number | undefined {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== undefined) return values[i];
  return undefined;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
