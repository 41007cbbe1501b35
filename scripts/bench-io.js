#!/usr/bin/env node
'use strict';
// safetensors I/O benchmark, ours vs Python safetensors (same machine, same run, same file):
//  - read: open a 512 MiB file, materialise every tensor and sum it; best of 5 × 2 runs (page cache warm);
//  - peak RSS of that read above the process's baseline (target ≤ 1.25 × the file: no second copy);
//  - write: save the same tensors to a new file (ours fsyncs before renaming into place; Python does not).
// Each side runs twice, alternating, in fresh child processes so peak RSS is its own. `npm run bench:io`.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const mib = 1024 * 1024;
const fileBytes = 512 * mib;
const python = require('./oracle-python').oraclePython();

function peakRssBytes() {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)[1]) * 1024;
}

async function worker(file, out) {
  const { loadSafetensors, saveSafetensors, zeros } = require('../dist');
  zeros([1]).dispose(); // load libtorch before the baseline
  const baseline = peakRssBytes();
  let best = Infinity;
  let tensors;
  for (let round = 0; round < 5; round++) {
    if (tensors) for (const t of Object.values(tensors)) t.dispose();
    const start = performance.now();
    tensors = await loadSafetensors(file);
    let total = 0;
    for (const t of Object.values(tensors)) total += t.sum().item();
    best = Math.min(best, performance.now() - start);
    if (!Number.isFinite(total)) throw new Error('sum is not finite');
  }
  const peak = peakRssBytes();
  const writeStart = performance.now();
  await saveSafetensors(out, tensors);
  const writeMs = performance.now() - writeStart;
  console.log(JSON.stringify({ readMs: best, writeMs, baseline, peak }));
}

const pythonWorker = `
import json, resource, sys, time, torch
from safetensors.torch import load_file, save_file
file, out = sys.argv[1], sys.argv[2]
torch.zeros(1)
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
best = float("inf")
for _ in range(5):
    tensors = None
    start = time.perf_counter()
    tensors = load_file(file)
    total = sum(float(t.sum()) for t in tensors.values())
    best = min(best, (time.perf_counter() - start) * 1000)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
start = time.perf_counter()
save_file(tensors, out)
write_ms = (time.perf_counter() - start) * 1000
print(json.dumps({"readMs": best, "writeMs": write_ms, "baseline": baseline, "peak": peak}))
`;

const makeFile = `
import sys, torch
from safetensors.torch import save_file
g = torch.Generator().manual_seed(0)
# 48 float32 tensors of 8 MiB and 32 bfloat16 tensors of 4 MiB: 512 MiB of data.
tensors = {f"layers.{i}.mlp.weight": torch.randn(1024, 2048, generator=g) for i in range(48)}
tensors.update({f"layers.{i}.attn.weight": torch.randn(1024, 2048, generator=g).bfloat16() for i in range(32)})
save_file(tensors, sys.argv[1], metadata={"format": "pt"})
# Flush it now: reading pages that are still being written back would slow whichever side runs first.
import os
fd = os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.close(fd)
`;

function runJson(command, args) {
  const run = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 16 * mib, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
  if (run.status !== 0) throw new Error(`${command} failed:\n${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop());
}

function main() {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-io-'));
  try {
    const file = path.join(folder, 'checkpoint.safetensors');
    const made = spawnSync(python, ['-c', makeFile, file], { stdio: 'inherit' });
    if (made.status !== 0) throw new Error('could not create the benchmark file with Python');
    const size = fs.statSync(file).size;
    // Alternate the sides and keep each one's best read, so neither pays for the other's write-back.
    const runOurs = () => runJson(process.execPath, [__filename, '--worker', file, path.join(folder, 'ours-out.safetensors')]);
    const runPython = () => runJson(python, ['-c', pythonWorker, file, path.join(folder, 'python-out.safetensors')]);
    const better = (a, b) => (a.readMs <= b.readMs ? a : b);
    let ours = runOurs();
    let theirs = runPython();
    ours = better(ours, runOurs());
    theirs = better(theirs, runPython());
    const throughput = (ms) => `${((size / mib) / (ms / 1000)).toFixed(0)} MiB/s`;
    const extra = (r) => (r.peak - r.baseline) / size;
    console.log(`file: ${(size / mib).toFixed(0)} MiB (48 F32 + 32 BF16 tensors), read = load + materialise + sum, best of 5 × 2 runs`);
    console.log(`read   ours ${ours.readMs.toFixed(0)} ms (${throughput(ours.readMs)})   python safetensors ${theirs.readMs.toFixed(0)} ms (${throughput(theirs.readMs)})   ratio ours/python ${(ours.readMs / theirs.readMs).toFixed(2)} (target ≤ 1.00)`);
    console.log(`write  ours ${ours.writeMs.toFixed(0)} ms (${throughput(ours.writeMs)}, fsync + rename)   python ${theirs.writeMs.toFixed(0)} ms (${throughput(theirs.writeMs)}, no fsync)   ratio ${(ours.writeMs / theirs.writeMs).toFixed(2)}`);
    console.log(`peak RSS above baseline during the reads: ours ${extra(ours).toFixed(2)} × file size (target ≤ 1.25), python ${extra(theirs).toFixed(2)} ×`);
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--worker') {
  worker(process.argv[3], process.argv[4]).catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main();
}
