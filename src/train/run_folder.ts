/**
 * The run folder of a training run:
 *   run.json       what the run is (model, optimizer, data, schedule, sizes) and how it ended; rewritten
 *                  atomically (temp + rename), so a reader never sees half a file;
 *   metrics.jsonl  one JSON line per step ({"type":"train",...}) and per evaluation ({"type":"eval",...}),
 *                  appended as the run goes (a killed run leaves at most a truncated last line);
 *   checkpoints/   training checkpoints (src/io/training_checkpoint.ts).
 */
import type { DiagnosticRecordFields } from './step_diagnostics';
import * as fs from 'fs';
import * as path from 'path';
import { ArgumentError } from '../errors';
import { writeFileAtomically } from '../io/atomic_file';

export const runFileName = 'run.json';
export const metricsFileName = 'metrics.jsonl';

export interface TrainMetricRecord {
  type: 'train';
  step: number;
  epoch: number;
  tokens: number;
  flops: number;
  loss: number;
  lmLoss: number;
  auxLoss: number;
  lr: number;
  gradNorm: number;
  clipCoefficient: number;
  tokensPerSecond: number;
  stepSeconds: number;
  elapsedSeconds: number;
  /** Mean over MoE layers of (busiest expert's load / mean load): 1 is perfectly balanced. */
  expertLoadMaxOverMean?: number;
}

// Diagnostic steps add the paper's diagnostics (src/train/step_diagnostics.ts).
export interface TrainMetricRecord extends DiagnosticRecordFields {}

export interface EvalMetricRecord {
  type: 'eval';
  step: number;
  tokens: number;
  flops: number;
  valLoss: number;
  valPerplexity: number;
  valTokens: number;
  elapsedSeconds: number;
}

export type MetricRecord = TrainMetricRecord | EvalMetricRecord;

export class RunFolder {
  readonly path: string;
  readonly metricsPath: string;
  readonly runPath: string;
  #metricsFd: number | null = null;

  constructor(folder: string) {
    this.path = path.resolve(folder);
    this.metricsPath = path.join(this.path, metricsFileName);
    this.runPath = path.join(this.path, runFileName);
  }

  /** Creates the folder; a file in its place is an ArgumentError. */
  ensure(): void {
    if (fs.existsSync(this.path) && !fs.statSync(this.path).isDirectory()) {
      throw new ArgumentError(`the run folder ${this.path} is a file; pass another --out`);
    }
    fs.mkdirSync(this.path, { recursive: true });
  }

  writeRun(run: Record<string, unknown>): void {
    writeFileAtomically(this.runPath, `${JSON.stringify(run, null, 2)}\n`);
  }

  readRun(): Record<string, unknown> | null {
    if (!fs.existsSync(this.runPath)) return null;
    return JSON.parse(fs.readFileSync(this.runPath, 'utf8')) as Record<string, unknown>;
  }

  /**
   * Keeps the metric lines of steps ≤ `step` (a resumed run repeats the steps after its checkpoint), or
   * starts an empty file when `step` is 0; rewritten atomically.
   */
  resetMetrics(step: number): void {
    let kept: string[] = [];
    if (step > 0 && fs.existsSync(this.metricsPath)) {
      kept = fs.readFileSync(this.metricsPath, 'utf8').split('\n').filter((line) => {
        if (line.trim() === '') return false;
        try {
          const record = JSON.parse(line) as { step?: unknown };
          return typeof record.step === 'number' && record.step <= step;
        } catch {
          return false; // a line cut short by a kill
        }
      });
    }
    writeFileAtomically(this.metricsPath, kept.map((line) => `${line}\n`).join(''));
  }

  appendMetric(record: MetricRecord): void {
    this.#metricsFd ??= fs.openSync(this.metricsPath, 'a');
    fs.writeSync(this.#metricsFd, `${JSON.stringify(record)}\n`);
  }

  close(): void {
    if (this.#metricsFd !== null) {
      fs.fsyncSync(this.#metricsFd);
      fs.closeSync(this.#metricsFd);
      this.#metricsFd = null;
    }
  }
}
