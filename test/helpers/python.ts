/**
 * Runs the Python oracle (torch, transformers, safetensors: test oracles only, never product code).
 * The script reads one JSON value from stdin and prints one JSON value as its last stdout line.
 * Flat float arrays travel as plain JSON lists: oracles here use small tensors.
 */
import { spawnSync } from 'child_process';

// MOONLIGHT_PYTHON, the project's oracle virtual environment (made by scripts/setup-oracles.js), or python3.
const { oraclePython } = require('../../scripts/oracle-python.js') as { oraclePython(): string };
export const pythonExecutable = oraclePython();

export function runPython<T = unknown>(script: string, input: unknown = null, timeoutMs = 120_000): T {
  return runPythonArgs<T>(['-c', script], input, timeoutMs);
}

/** Like runPython, for an oracle kept as a .py file (it can import its neighbours). */
export function runPythonFile<T = unknown>(file: string, input: unknown = null, timeoutMs = 120_000): T {
  return runPythonArgs<T>([file], input, timeoutMs);
}

function runPythonArgs<T>(args: string[], input: unknown, timeoutMs: number): T {
  const result = spawnSync(pythonExecutable, args, {
    input: JSON.stringify(input),
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, PYTHONWARNINGS: 'ignore', OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '2' },
  });
  if (result.status !== 0) {
    throw new Error(`python oracle failed (exit ${result.status ?? result.signal}):\n${result.stderr}`);
  }
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}
