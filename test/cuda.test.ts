/**
 * The GPU check's correctness checks (scripts/gpu-check/checks.js: forward/backward fp32 and bf16-mixed vs
 * transformers, Muon/AdamW vs torch.optim, greedy generation, a Hugging Face folder loaded onto the GPU, LoRA,
 * QK-Clip, a 1-rank NCCL ZeRO-1 step) as jest tests on the first CUDA device. Without one they are listed as
 * skipped, and the reason is printed (jest itself does not print why a test was skipped).
 */
import { cudaAvailable } from '../src';
import { pythonExecutable } from './helpers/python';

interface Check {
  part: string;
  limitSeconds: number;
  run(context: { python: string; device: string }): Promise<{ status: string } & Record<string, unknown>>;
}
const { CHECKS } = require('../scripts/gpu-check/checks.js') as { CHECKS: Record<string, Check> };
const correctness = Object.entries(CHECKS).filter(([, check]) => check.part === 'correctness');

const reason = cudaAvailable() ? null : 'no CUDA device is visible (a CPU build of the addon, or no GPU)';
if (reason !== null) process.stderr.write(`test/cuda.test.ts: ${correctness.length} CUDA tests skipped: ${reason}\n`);
const describeOnCuda = reason === null ? describe : describe.skip;

describeOnCuda('on the first CUDA device', () => {
  test.each(correctness)('%s', async (_name, check) => {
    const result = await check.run({ python: pythonExecutable, device: 'cuda' });
    expect(result).toMatchObject({ status: 'passed' });
  }, 600_000);
});
