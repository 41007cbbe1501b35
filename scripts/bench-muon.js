'use strict';
// Times one Muon step of ours against torch.optim.Muon (Python, same machine, same thread count) on the
// 30 matrices of a small LLM's layer stack: 4×(1024,1024), 16×(352,1024), 8×(1024,352),
// (2816,1024), (1024,2816); prints both medians and their ratio, and the optimizer state bytes of Muon vs
// AdamW on the same matrices. Prints numbers only; asserts nothing.
//   npm run build:ts && npm run bench:muon [-- --threads N --steps S]
const os = require('os');
const path = require('path');
const { startTorchMuon } = require('./bench-muon-torch');

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const threads = option('threads', Math.max(1, Math.min(os.cpus().length, 16)));
// Steps alternate between ours and torch's (a Python child waiting for a line per step), so load from
// other processes on a shared machine hits both sides alike; each side reports its median step.
const steps = option('steps', 10);
// libtorch reads OMP_NUM_THREADS when it starts its thread pool: set it before the addon loads.
process.env.OMP_NUM_THREADS = String(threads);
const distEntry = path.join(__dirname, '..', 'dist', 'index.js');
if (!require('fs').existsSync(distEntry)) {
  console.error('dist/ is missing: run `npm run build:ts` (and `npm run setup` for the addon) first');
  process.exit(1);
}
const moonlight = require(distEntry);

const SHAPES = require('./bench-configs').muonMatrices;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main() {
  moonlight.manualSeed(0);
  const params = Object.fromEntries(SHAPES.map((shape, i) => [`layers.${i}.weight`, moonlight.randn(shape).mul(0.02)]));
  const grads = Object.fromEntries(Object.entries(params).map(([name, p]) => [name, moonlight.randn([...p.shape])]));
  const muon = new moonlight.Muon(params, { updateScale: 'match-rms-adamw' });
  const adamw = new moonlight.AdamW(params);
  muon.stepSync(grads); // warm-up: first-touch allocations, oneDNN kernel selection
  const torch = startTorchMuon({ python: require('./oracle-python').oraclePython(), shapes: SHAPES, threads });
  const torchInfo = await torch.ready;
  const oursMs = [];
  const torchMs = [];
  for (let i = 0; i < steps; i += 1) {
    const start = process.hrtime.bigint();
    muon.stepSync(grads);
    oursMs.push(Number(process.hrtime.bigint() - start) / 1e6);
    torchMs.push(await torch.step());
  }
  torch.close();
  const ours = median(oursMs);
  const theirs = median(torchMs);
  const muonBytes = muon.stateBytes();
  const adamwBytes = adamw.stateBytes();
  console.log(`Muon step on ${SHAPES.length} matrices, ${threads} thread(s), median of ${steps} alternating steps:`);
  console.log(`  moonlight-torch (libtorch ${moonlight.libtorchVersion}): ${ours.toFixed(1)} ms`);
  console.log(`  torch.optim.Muon (torch ${torchInfo.torch}, ${torchInfo.threads} threads): ${theirs.toFixed(1)} ms`);
  console.log(`  ratio ours / torch: ${(ours / theirs).toFixed(3)} (target ≤ 0.6)`);
  console.log(`  all steps (ms), ours: ${oursMs.map((t) => t.toFixed(0)).join(' ')}`);
  console.log(`  all steps (ms), torch: ${torchMs.map((t) => t.toFixed(0)).join(' ')}`);
  console.log('Optimizer state on the same matrices:');
  console.log(`  Muon ${muonBytes} bytes, AdamW ${adamwBytes} bytes, ratio ${(muonBytes / adamwBytes).toFixed(3)} (target 0.5)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
