'use strict';
// How the GPU check calls the Python oracles (transformers / torch on the same device as ours; never the
// product), and the small measures its checks share.
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..', '..');
const oracleFiles = {
  gpuCheck: path.join(__dirname, 'oracle.py'),
  optimizer: path.join(root, 'test', 'oracles', 'optimizer_reference.py'),
  generate: path.join(root, 'test', 'helpers', 'generate_oracle.py'),
  moonlightWidth: path.join(root, 'scripts', 'oracle', 'moonlight_width_reference.py'),
  trainStepBench: path.join(root, 'scripts', 'oracle', 'train_step_bench.py'),
  decodeBench: path.join(root, 'scripts', 'oracle', 'decode_bench.py'),
};

/** Runs an oracle file with one JSON request on stdin; returns the JSON of its last stdout line. */
function runOracle(python, file, request, timeoutMs = 300_000) {
  const result = spawnSync(python, [file], {
    input: JSON.stringify(request), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 512 << 20,
    env: { ...process.env, PYTHONWARNINGS: 'ignore' },
  });
  if (result.status !== 0) throw new Error(`${path.basename(file)} failed (exit ${result.status ?? result.signal}): ${(result.stderr || '').slice(-3000)}`);
  return JSON.parse(result.stdout.trim().split('\n').pop());
}

/** Largest |a − b| over two equally long flat number arrays, and the largest |b| (the scale). */
function maxAbsDifference(ours, theirs) {
  if (ours.length !== theirs.length) throw new Error(`lengths differ: ${ours.length} vs ${theirs.length}`);
  let difference = 0;
  let scale = 0;
  for (let i = 0; i < ours.length; i++) {
    difference = Math.max(difference, Math.abs(ours[i] - theirs[i]));
    scale = Math.max(scale, Math.abs(theirs[i]));
  }
  return { difference, scale };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Seconds of an async function, the device's work included: `settle` reads a value back (a device sync). */
async function timed(run, settle = () => {}) {
  const start = process.hrtime.bigint();
  const value = await run();
  settle(value);
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}

module.exports = { oracleFiles, runOracle, maxAbsDifference, median, timed, root };
