// `moonlight doctor` on this CPU setup (a repository checkout: the local build against the Python torch),
// checked against what Python's torch says about itself; and the CPU flavour's answer to a request for
// NCCL, which it does not have.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { distributed, DistributedError, ArgumentError } from '../src';
import { freePort } from './helpers/dist-ranks';
import { runPython } from './helpers/python';

const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
const torch = runPython<{ version: string; root: string; cuda: boolean; gpus: number; gloo: boolean; nccl: boolean }>(`
import json, os, torch, torch.distributed as dist
print(json.dumps({"version": torch.__version__.split("+")[0], "root": os.path.dirname(torch.__file__),
  "cuda": torch.cuda.is_available(), "gpus": torch.cuda.device_count(),
  "gloo": dist.is_gloo_available(), "nccl": dist.is_nccl_available()}))
`);

function doctor(...args: string[]) {
  return spawnSync(process.execPath, [cli, 'doctor', ...args], { encoding: 'utf8', timeout: 60_000 });
}

test('doctor --json: libtorch route/path/version, the binary chosen and why, GPUs, gloo/NCCL, advice', () => {
  const run = doctor('--json');
  expect(run.status).toBe(0);
  const report = JSON.parse(run.stdout);
  expect(report.platform).toBe(`${process.platform}-${process.arch}`);
  expect(report.libtorch).toMatchObject({ found: true, version: torch.version, cuda: false });
  expect(['python', 'LIBTORCH', 'local']).toContain(report.libtorch.route);
  if (report.libtorch.route === 'python') expect(fs.realpathSync(report.libtorch.root)).toBe(fs.realpathSync(torch.root));
  // A checkout has no platform packages: both are reported as not installed, then the local build is used.
  expect(report.binary.attempts.map((a: { route: string; ok: boolean }) => [a.route, a.ok])).toEqual([
    ['platform package @moonlight-torch/linux-x64-cuda', false],
    ['platform package @moonlight-torch/linux-x64-cpu', false],
    ['local build', true],
  ]);
  expect(report.binary).toMatchObject({ route: 'local build', flavour: 'cpu', builtFor: `libtorch ${torch.version} (CPU)` });
  expect(report.binary.chosen).toBe(path.join(__dirname, '..', 'build', 'Release', 'moonlight.node'));
  expect(report.loaded).toBe(true);
  // The CPU wheel: same answers as Python's torch.cuda / torch.distributed.
  expect(report.cudaAvailable).toBe(torch.cuda);
  expect(report.gpus).toBe(torch.gpus);
  expect(report.gloo).toBe(torch.gloo);
  expect(report.nccl).toBe(torch.nccl);
  expect(report.todo.join('\n')).toMatch(/NCCL is not in this build \(CPU flavour\)/);
  expect(report.todo.join('\n')).toMatch(/Training runs on the CPU/);
});

test('doctor prints the same facts as readable lines', () => {
  const run = doctor();
  expect(run.status).toBe(0);
  const lines = run.stdout.split('\n');
  expect(lines[0]).toBe(`moonlight doctor: ${process.platform}-${process.arch}, node ${process.version}`);
  expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^libtorch +${torch.version.replace(/\./g, '\\.')} CPU via \\w+ at /`)));
  expect(lines).toContainEqual(expect.stringMatching(/^binary +local build \(cpu, built for libtorch [\d.]+ \(CPU\)\): \/.*moonlight\.node$/));
  expect(lines).toContainEqual(expect.stringMatching(/^ {2}skip platform package @moonlight-torch\/linux-x64-cpu: not installed$/));
  expect(lines).toContainEqual(expect.stringMatching(/^GPUs +none visible/));
  expect(lines).toContainEqual(expect.stringMatching(/^gloo +yes/));
  expect(lines).toContainEqual(expect.stringMatching(/^NCCL +no$/));
  expect(lines).toContain('to do:');
});

describe('process group backends in the CPU flavour', () => {
  afterEach(() => {
    if (distributed.isInitialized) distributed.destroy();
  });

  test("backend 'nccl' is a DistributedError at once, naming the CUDA flavour", async () => {
    const started = Date.now();
    await expect(distributed.init({ rank: 0, worldSize: 2, masterPort: await freePort(), backend: 'nccl', timeoutMs: 20_000 }))
      .rejects.toThrow(DistributedError);
    await expect(distributed.init({ rank: 0, worldSize: 2, masterPort: await freePort(), backend: 'nccl', timeoutMs: 20_000 }))
      .rejects.toThrow(/backend 'nccl' needs the CUDA flavour of moonlight-torch/);
    // Refused before the rendezvous, which would wait the whole timeout for the missing rank.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(distributed.isInitialized).toBe(false);
  });

  test("an unknown backend is an ArgumentError; 'auto' and 'gloo' use gloo on CPU", async () => {
    await expect(distributed.init({ rank: 0, worldSize: 1, backend: 'mpi' as never })).rejects.toThrow(ArgumentError);
    for (const backend of ['auto', 'gloo'] as const) {
      await distributed.init({ rank: 0, worldSize: 1, masterPort: await freePort(), backend });
      expect(distributed.backend).toBe('gloo');
      distributed.destroy();
    }
  });
});
