// Run folders as the Trainer writes them (run.json + metrics.jsonl), with metrics from closed-form curves
// so the tests know every value: train loss 5·exp(−step/50) + offset, eval loss 0.1 above it.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface FakeRunOptions {
  name: string;
  steps: number;
  /** Added to the loss curve, so runs are distinguishable. */
  lossOffset?: number;
  evalEvery?: number;
  tokensPerStep?: number;
  flopsPerToken?: number;
  optimizer?: 'muon' | 'adamw';
  /** Text appended to metrics.jsonl after the generated lines (e.g. a truncated line). */
  appendMetrics?: string;
  /** Extra keys for run.json. */
  runJson?: Record<string, unknown>;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `moonlight-${prefix}-`));
}

export function trainLoss(step: number, offset = 0): number {
  return 5 * Math.exp(-step / 50) + offset;
}

/** Writes a run folder under `parent`, named after the run's folder-safe name; returns its path. */
export function writeFakeRun(parent: string, options: FakeRunOptions): string {
  const folder = path.join(parent, options.name.replace(/[^A-Za-z0-9._-]/g, '_'));
  fs.mkdirSync(folder, { recursive: true });
  const tokensPerStep = options.tokensPerStep ?? 8192;
  const flopsPerToken = options.flopsPerToken ?? 6 * 20e6;
  const evalEvery = options.evalEvery ?? 25;
  const lossOffset = options.lossOffset ?? 0;
  fs.writeFileSync(
    path.join(folder, 'run.json'),
    JSON.stringify({
      name: options.name,
      createdAt: '2025-01-02T03:04:05.000Z',
      model: { type: 'deepseek_v3', numParameters: 35e6, activatedParameters: 20e6, hiddenSize: 256 },
      optimizer: { type: options.optimizer ?? 'muon', lr: 2e-3, weightDecay: 0.1, momentum: 0.95 },
      schedule: { type: 'cosine', warmupSteps: 10 },
      batchSize: 8,
      seqLen: 1024,
      gradAccum: 1,
      flopsPerToken,
      status: 'completed',
      someFutureKey: { nested: [1, 2] },
      ...options.runJson,
    }),
  );
  const lines: string[] = [];
  for (let step = 1; step <= options.steps; step++) {
    const tokens = step * tokensPerStep;
    lines.push(
      JSON.stringify({
        type: 'train',
        step,
        tokens,
        flops: tokens * flopsPerToken,
        loss: trainLoss(step, lossOffset),
        lr: step <= 10 ? (2e-3 * step) / 10 : 2e-3,
        gradNorm: 1 + 1 / step,
        tokensPerSecond: 3000 + step,
        elapsedSeconds: step * 2.5,
        extraKeyFromTheFuture: 'ignored',
      }),
    );
    if (step % evalEvery === 0) {
      lines.push(JSON.stringify({ type: 'eval', step, tokens, flops: tokens * flopsPerToken, valLoss: trainLoss(step, lossOffset) + 0.1 }));
      lines.push('');
    }
  }
  fs.writeFileSync(path.join(folder, 'metrics.jsonl'), `${lines.join('\n')}\n${options.appendMetrics ?? ''}`);
  return folder;
}
