/**
 * Progress of a training run for people: on a TTY a live bar (cli-progress) with loss, lr, tokens/s and ETA;
 * elsewhere (CI, a log file) plain periodic lines, so logs stay readable and small.
 */
import { SingleBar } from 'cli-progress';
import type { EvalMetricRecord } from './run_folder';
import type { EventEmitter } from 'events';
import type { StepEvent } from './loop';
import type { PrepareEvent } from './trainer';

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Live bar (default: when the stream is a TTY). */
  tty?: boolean;
  /** Plain mode: one line every N steps (default: about 20 lines per run, and the last step). */
  logEvery?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatRate(tokensPerSecond: number): string {
  return Math.round(tokensPerSecond).toLocaleString('en-US');
}

/** Subscribes to a run's events (a Trainer's or a FineTuner's); returns a function that detaches (and stops the bar). */
export function attachProgress(trainer: Pick<EventEmitter, 'on' | 'off'>, options: ProgressOptions = {}): () => void {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  let bar: SingleBar | null = null;
  let lastValLoss = '';
  let prepareStarted: number | null = null;
  let lastPrepareLog = 0;
  let firstStep: number | null = null;
  let firstStepElapsed = 0;

  const eta = (event: StepEvent): number => {
    firstStep ??= event.step - 1;
    if (event.step - 1 === firstStep) firstStepElapsed = event.elapsedSeconds - event.stepSeconds;
    const done = event.step - firstStep;
    const perStep = (event.elapsedSeconds - firstStepElapsed) / Math.max(1, done);
    return perStep * (event.totalSteps - event.step);
  };

  const onPrepare = (event: PrepareEvent): void => {
    // Quick tokenisations (a cache hit, a small corpus) print nothing; long ones a line every 2 s and the last.
    const now = Date.now();
    prepareStarted ??= now;
    const finished = event.bytesRead >= event.totalBytes;
    if (now - prepareStarted < 2000 && !(finished && lastPrepareLog > 0)) return;
    if (now - lastPrepareLog < 2000 && !finished) return;
    lastPrepareLog = now;
    const percent = event.totalBytes > 0 ? Math.floor((100 * event.bytesRead) / event.totalBytes) : 100;
    stream.write(`tokenizing: ${event.documents.toLocaleString('en-US')} documents, ${event.tokens.toLocaleString('en-US')} tokens (${percent}%)\n`);
  };

  const onStep = (event: StepEvent): void => {
    const remaining = eta(event);
    if (tty) {
      if (bar === null) {
        bar = new SingleBar({
          stream,
          format: 'step {value}/{total} |{bar}| loss {loss}{val} | lr {lr} | {rate} tok/s | ETA {etaText}',
          barsize: 24,
          hideCursor: true,
          etaBuffer: 50,
        });
        bar.start(event.totalSteps, event.step - 1, { loss: '-', val: '', lr: '-', rate: '-', etaText: '?' });
      }
      bar.update(event.step, {
        loss: event.loss.toFixed(4), val: lastValLoss, lr: event.lr.toExponential(2), rate: formatRate(event.tokensPerSecond),
        etaText: formatDuration(remaining),
      });
      return;
    }
    const every = options.logEvery ?? Math.max(1, Math.round(event.totalSteps / 20));
    if (event.step % every !== 0 && event.step !== event.totalSteps && event.step !== (firstStep ?? 0) + 1) return;
    const percent = Math.floor((100 * event.step) / event.totalSteps);
    stream.write(
      `step ${event.step}/${event.totalSteps} (${percent}%) loss ${event.loss.toFixed(4)} lr ${event.lr.toExponential(2)} ` +
        `grad_norm ${event.gradNorm.toFixed(3)} | ${formatRate(event.tokensPerSecond)} tok/s | ` +
        `elapsed ${formatDuration(event.elapsedSeconds)} ETA ${formatDuration(remaining)}\n`,
    );
  };

  const onEval = (event: EvalMetricRecord): void => {
    lastValLoss = ` (val ${event.valLoss.toFixed(4)})`;
    if (!tty) stream.write(`eval at step ${event.step}: val_loss ${event.valLoss.toFixed(4)} (perplexity ${event.valPerplexity.toFixed(2)})\n`);
  };

  const onCheckpoint = (event: { step: number; path: string }): void => {
    if (!tty) stream.write(`checkpoint at step ${event.step}: ${event.path}\n`);
  };

  const stop = (): void => {
    bar?.stop();
    bar = null;
  };

  trainer.on('prepare', onPrepare);
  trainer.on('step', onStep);
  trainer.on('eval', onEval);
  trainer.on('checkpoint', onCheckpoint);
  trainer.on('end', stop);
  return () => {
    stop();
    trainer.off('prepare', onPrepare);
    trainer.off('step', onStep);
    trainer.off('eval', onEval);
    trainer.off('checkpoint', onCheckpoint);
    trainer.off('end', stop);
  };
}
