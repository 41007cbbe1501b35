/**
 * The training step composed in the C++ core, run by a C++ program without Node (test/cpp/step_runner_check.cpp):
 * three steps of a tiny DeepSeek-V3 model (MLA + MoE) with Moonlight's Muon over two micro-batches with unequal
 * padding, against transformers and a Muon written from the paper's formulas (test/cpp/step_runner_oracle.py).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runPythonFile } from './helpers/python';

const checker = path.join(__dirname, '..', 'build', 'Release', 'step_runner_check');
const oracle = path.join(__dirname, 'cpp', 'step_runner_oracle.py');

function runChecker(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(checker, args, { encoding: 'utf8', timeout: 120_000, env: { ...process.env, OMP_NUM_THREADS: '2' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('C++ step runner against transformers + Muon from its formulas', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moonlight-step-runner-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('three steps: losses, gradient norms and every weight match', () => {
    expect(fs.existsSync(checker) ? checker : `${checker} missing: run npm run build:native`).toBe(checker);
    const config = runChecker(['--print-config']);
    expect(config.status).toBe(0);
    // Right padding of different lengths (labels -100): the token-weighted mean is not the mean of the
    // micro-batch means, so a step that weighted the micro-batches 1/M would miss the oracle.
    const microBatches = [
      { input_ids: [[5, 17, 42, 90, 3, 11, 77, 30, 8, 9], [12, 6, 7, 8, 9, 10, 11, 12, 13, 14]],
        labels: [[5, 17, 42, 90, 3, 11, 77, 30, 8, 9], [12, 6, 7, -100, -100, -100, -100, -100, -100, -100]] },
      { input_ids: [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [40, 41, 42, 43, 44, 45, 46, 47, 48, 49]],
        labels: [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [40, 41, 42, 43, 44, 45, 46, 47, -100, -100]] },
    ];
    const expected = runPythonFile<{ tokens: number; losses: number[] }>(oracle, {
      config: JSON.parse(config.stdout), seed: 3, out_dir: dir, micro_batches: microBatches, steps: 3,
      lr: 0.01, weight_decay: 0.1, max_grad_norm: 1.0, momentum: 0.95, ns_steps: 5,
      ns_coefficients: [3.4445, -4.775, 2.0315], ns_eps: 1e-7, adam_betas: [0.9, 0.95], adam_eps: 1e-8,
    }, 300_000);
    expect(expected.tokens).toBe(9 + 2 + 9 + 7);

    const run = runChecker([dir]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout.trim()) as {
      losses: number[]; tokens: number; maxLossError: number; maxGradNormError: number; maxWeightError: number; weights: number;
    };
    expect(report.tokens).toBe(expected.tokens);
    expect(report.weights).toBeGreaterThan(30);
    // The loss changes from step to step (the updates are real), and ours follows the oracle's.
    expect(Math.abs(expected.losses[2] - expected.losses[0])).toBeGreaterThan(1e-3);
    // fp32 against the oracle's fp32 model and float64 Muon; measured on x86-64 CPU: loss 4.2e-6, gradient norm
    // 1.6e-5 (of 2.9–3.6), weights 1.5e-5 after three steps of lr 0.01.
    expect(report.maxLossError).toBeLessThan(1e-4);
    expect(report.maxGradNormError).toBeLessThan(1e-4);
    expect(report.maxWeightError).toBeLessThan(1e-4);
  }, 600_000);
});
