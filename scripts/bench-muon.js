'use strict';
// Times one Muon step of ours against torch.optim.Muon (Python, same machine, same thread count) on the
// 30 matrices of a small LLM's layer stack (issue 3): 4×(1024,1024), 16×(352,1024), 8×(1024,352),
// (2816,1024), (1024,2816); prints both medians and their ratio, and the optimizer state bytes of Muon vs
// AdamW on the same matrices. Prints numbers only; asserts nothing.
//   npm run build:ts && npm run bench:muon [-- --threads N --repeats R]
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const threads = option('threads', Math.max(1, Math.min(os.cpus().length, 16)));
const repeats = option('repeats', 5);
// Ours and torch's run in alternating rounds and each side reports its best round's median, so load from
// other processes on a shared machine hits both sides alike instead of whichever ran second.
const rounds = option('rounds', 3);
// libtorch reads OMP_NUM_THREADS when it starts its thread pool: set it before the addon loads.
process.env.OMP_NUM_THREADS = String(threads);
const moonlight = require(path.join(__dirname, '..', 'dist'));

const SHAPES = [
  ...Array(4).fill([1024, 1024]),
  ...Array(16).fill([352, 1024]),
  ...Array(8).fill([1024, 352]),
  [2816, 1024],
  [1024, 2816],
];

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function setupOurs() {
  moonlight.manualSeed(0);
  const params = Object.fromEntries(SHAPES.map((shape, i) => [`layers.${i}.weight`, moonlight.randn(shape).mul(0.02)]));
  const grads = Object.fromEntries(Object.entries(params).map(([name, p]) => [name, moonlight.randn([...p.shape])]));
  const muon = new moonlight.Muon(params, { updateScale: 'match-rms-adamw' });
  const adamw = new moonlight.AdamW(params);
  muon.stepSync(grads); // warm-up: first-touch allocations, oneDNN kernel selection
  return { muon, adamw, grads };
}

function benchOurs({ muon, grads }) {
  const times = [];
  for (let i = 0; i < repeats; i += 1) {
    const start = process.hrtime.bigint();
    muon.stepSync(grads);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(times);
}

const PYTHON_BENCH = `
import json, sys, time, torch
inp = json.load(sys.stdin)
torch.set_num_threads(inp['threads'])
torch.manual_seed(0)
params = [torch.nn.Parameter(torch.randn(s) * 0.02) for s in inp['shapes']]
for p in params:
    p.grad = torch.randn_like(p)
opt = torch.optim.Muon(params, adjust_lr_fn='match_rms_adamw')
opt.step()
times = []
for _ in range(inp['repeats']):
    start = time.perf_counter()
    opt.step()
    times.append((time.perf_counter() - start) * 1e3)
times.sort()
print(json.dumps({'stepMs': times[len(times) // 2], 'threads': torch.get_num_threads(), 'torch': torch.__version__}))
`;

function benchTorch() {
  const python = process.env.MOONLIGHT_PYTHON || 'python3';
  const result = spawnSync(python, ['-c', PYTHON_BENCH], {
    input: JSON.stringify({ shapes: SHAPES, repeats, threads }),
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: String(threads), PYTHONWARNINGS: 'ignore' },
  });
  if (result.status !== 0) throw new Error(`python benchmark failed:\n${result.stderr}`);
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

const setup = setupOurs();
const oursMs = [];
const torchMs = [];
let torchInfo;
for (let round = 0; round < rounds; round += 1) {
  oursMs.push(benchOurs(setup));
  torchInfo = benchTorch();
  torchMs.push(torchInfo.stepMs);
}
const ours = Math.min(...oursMs);
const theirs = Math.min(...torchMs);
const muonBytes = setup.muon.stateBytes();
const adamwBytes = setup.adamw.stateBytes();
console.log(`Muon step on ${SHAPES.length} matrices, ${threads} thread(s), best of ${rounds} rounds of the median of ${repeats} steps:`);
console.log(`  moonlight-torch (libtorch ${moonlight.libtorchVersion}): ${ours.toFixed(1)} ms  [rounds: ${oursMs.map((t) => t.toFixed(0)).join(', ')}]`);
console.log(`  torch.optim.Muon (torch ${torchInfo.torch}, ${torchInfo.threads} threads): ${theirs.toFixed(1)} ms  [rounds: ${torchMs.map((t) => t.toFixed(0)).join(', ')}]`);
console.log(`  ratio ours / torch: ${(ours / theirs).toFixed(3)} (target ≤ 0.6)`);
console.log('Optimizer state on the same matrices:');
console.log(`  Muon ${muonBytes} bytes, AdamW ${adamwBytes} bytes, ratio ${(muonBytes / adamwBytes).toFixed(3)} (target 0.5)`);
