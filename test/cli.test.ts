// The `moonlight` CLI (compiled dist/, as users run it).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { libtorchVersion } from '../src';
import { runPython } from './helpers/python';

const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');

function moonlight(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
}

test('info --json reports the libtorch in use', () => {
  const run = moonlight('info', '--json');
  expect(run.status).toBe(0);
  const facts = JSON.parse(run.stdout);
  expect(facts.libtorchVersion).toBe(libtorchVersion);
  expect(['LIBTORCH', 'python', 'local']).toContain(facts.libtorchRoute);
  expect(typeof facts.cudaAvailable).toBe('boolean');
});

test('an unknown command fails with a non-zero exit and says why', () => {
  const run = moonlight('trian');
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(/^moonlight: Unknown command: trian\. Did you mean train\?/);
});

test('--help lists the commands', () => {
  const run = moonlight('--help');
  expect(run.status).toBe(0);
  expect(run.stdout).toContain('moonlight info');
});

test('inspect lists what Python safetensors says the file holds, with totals', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'inspect-')), 'x.safetensors');
  const pythonHeader = runPython<Record<string, { dtype: string; shape: number[]; bytes: number }>>(
    `
import json, sys, torch
from safetensors.torch import save_file
from safetensors import safe_open
path = json.load(sys.stdin)
save_file({"embed.weight": torch.zeros(10, 4, dtype=torch.bfloat16), "norm": torch.ones(4), "ids": torch.arange(3)}, path, metadata={"format": "pt", "step": "7"})
with safe_open(path, "pt") as f:
    out = {}
    for k in f.keys():
        t = f.get_tensor(k)
        out[k] = {"dtype": {torch.bfloat16: "BF16", torch.float32: "F32", torch.int64: "I64"}[t.dtype], "shape": list(t.shape), "bytes": t.numel() * t.element_size()}
print(json.dumps(out))
`,
    file,
  );
  const run = moonlight('inspect', file, '--json');
  expect(run.status).toBe(0);
  const report = JSON.parse(run.stdout);
  const ours = Object.fromEntries(
    report.tensors.map((t: { name: string; dtype: string; shape: number[]; bytes: number }) => [
      t.name,
      { dtype: t.dtype, shape: t.shape, bytes: t.bytes },
    ]),
  );
  expect(ours).toEqual(pythonHeader);
  expect(report.metadata).toEqual({ format: 'pt', step: '7' });
  expect(report.totals.bytes).toBe(80 + 16 + 24);

  const table = moonlight('inspect', file);
  expect(table.stdout).toMatch(/embed\.weight\s+BF16\s+\[10, 4\]\s+80 B/);
  expect(table.stdout).toContain('total: 3 tensors in 1 file(s), 47 elements');
});

test('inspect of a missing path exits non-zero with one clear line', () => {
  const run = moonlight('inspect', '/nonexistent/model');
  expect(run.status).not.toBe(0);
  expect(run.stderr.trim()).toBe('moonlight: CheckpointError: /nonexistent/model: no such file or folder');
});
