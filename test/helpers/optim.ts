/**
 * Shared pieces of the optimizer tests. A problem (initial parameters and one gradient per step) is drawn
 * from libtorch's generator after manualSeed(seed); the Python oracle (test/oracles/optimizer_reference.py)
 * draws the same numbers from torch's generator, which uses the same stream, and checks a checksum to be
 * sure. Our parameters after each step travel to the oracle as a raw float32 file, the oracle compares.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { manualSeed, Optimizer, randn, Tensor } from '../../src';
import { runPython } from './python';

export interface Problem {
  seed: number;
  names: string[];
  shapes: Record<string, number[]>;
  gradScale: Record<string, number>;
  steps: number;
}

export interface Comparison {
  [name: string]: { maxDiff: number; maxRef: number };
}

export function problem(shapes: Record<string, number[]>, steps: number, seed: number, gradScale: Record<string, number> = {}): Problem {
  return { seed, names: Object.keys(shapes), shapes, gradScale, steps };
}

/** The problem's initial parameters and per-step gradients, in the oracle's drawing order. */
export function draw(p: Problem): { params: Record<string, Tensor>; grads: Record<string, Tensor>[] } {
  manualSeed(p.seed);
  const params = Object.fromEntries(p.names.map((n) => [n, randn(p.shapes[n])]));
  const grads = Array.from({ length: p.steps }, () =>
    Object.fromEntries(
      p.names.map((n) => {
        const g = randn(p.shapes[n]);
        return [n, p.gradScale[n] === undefined ? g : g.mul(p.gradScale[n])];
      }),
    ),
  );
  return { params, grads };
}

function checksum(params: Record<string, Tensor>, names: string[]): number {
  return names.reduce((total, n) => total + params[n].to({ dtype: 'float64' }).sum().item(), 0);
}

/**
 * Runs the problem through the optimizer `make` builds on its parameters, then has the oracle run `mode`
 * with `options` and compare. Returns the oracle's per-parameter comparison.
 */
export function compareWithOracle(
  p: Problem,
  make: (params: Record<string, Tensor>) => Optimizer,
  mode: 'torch-muon' | 'moonlight-muon' | 'torch-adamw' | 'moonlight-adamw',
  options: Record<string, unknown>,
): Comparison {
  const { params, grads } = draw(p);
  const sum = checksum(params, p.names);
  const optimizer = make(params);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'moonlight-optim-')), 'ours.f32');
  try {
    for (const stepGrads of grads) {
      for (const n of p.names) params[n].grad = stepGrads[n];
      optimizer.stepSync();
      for (const n of p.names) {
        const values = params[n].data() as Float32Array;
        fs.appendFileSync(file, Buffer.from(values.buffer, values.byteOffset, values.byteLength));
      }
    }
    const script = fs.readFileSync(path.join(__dirname, '..', 'oracles', 'optimizer_reference.py'), 'utf8');
    return runPython<Comparison>(script, { ...p, mode, checksum: sum, oursFile: file, options });
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

export function worst(comparison: Comparison): { maxDiff: number; maxRef: number } {
  return Object.values(comparison).reduce(
    (acc, c) => ({ maxDiff: Math.max(acc.maxDiff, c.maxDiff), maxRef: Math.max(acc.maxRef, c.maxRef) }),
    { maxDiff: 0, maxRef: 0 },
  );
}
