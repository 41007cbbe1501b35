/**
 * The GPU check's parts that run without a GPU (what CI can prove): `npm run check:gpu:bundle` writes a bundle
 * within the transfer limits (≤ 64 MiB, ≤ 8 paths), and the bundle's entry script (scripts/gpu-check/run.sh)
 * unpacks Node from it and, with no CUDA device visible, says so, writes its report and exits 0.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cudaAvailable } from '../src';
import { pythonExecutable } from './helpers/python';

const root = path.join(__dirname, '..');
const bundle = require('../scripts/gpu-check/bundle.js') as {
  makeBundle(log?: (line: string) => void): { files: { name: string; bytes: number }[]; totalBytes: number };
  maxBundleBytes: number;
  maxBundlePaths: number;
};

test('the bundle is within the transfer limits (≤ 64 MiB, ≤ 8 paths)', () => {
  const made = bundle.makeBundle(() => {});
  expect(made.files.map((f) => f.name).sort()).toEqual(['headers.tar.xz', 'node.xz', 'runtime.tar.xz']);
  expect(made.files.length).toBeLessThanOrEqual(bundle.maxBundlePaths);
  expect(made.totalBytes).toBeLessThanOrEqual(bundle.maxBundleBytes);
  expect(bundle.maxBundleBytes).toBe(64 * 1024 * 1024);
}, 600_000);

const noGpu = cudaAvailable() ? describe.skip : describe;
if (cudaAvailable()) process.stderr.write('test/gpu-check-bundle.test.ts: the no-GPU path is skipped: a CUDA device is visible\n');

noGpu('without a CUDA device', () => {
  test('the entry script runs Node from the bundle, says no CUDA device is visible and exits 0', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-check-out-'));
    try {
      const result = spawnSync('bash', [path.join(root, 'scripts', 'gpu-check', 'run.sh'), '--out', out], {
        cwd: root, encoding: 'utf8', timeout: 300_000, env: { ...process.env, MOONLIGHT_PYTHON: pythonExecutable },
      });
      expect(result.stderr).toMatch(new RegExp(`Node ${process.version} from the bundle`));
      expect(result.stderr).toMatch(/no CUDA device is visible: nothing GPU-side was run/);
      expect(result.status).toBe(0);
      const report = JSON.parse(fs.readFileSync(path.join(out, 'gpu-check.json'), 'utf8'));
      expect(report.checks).toEqual([]);
      expect(report.torch.devices).toBe(0);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);
});
