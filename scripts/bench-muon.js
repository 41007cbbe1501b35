'use strict';
// Times one Muon step of ours against torch.optim.Muon (Python, same machine, same thread count) on the
// 30 matrices of a small LLM's layer stack: 4×(1024,1024), 16×(352,1024), 8×(1024,352),
// (2816,1024), (1024,2816); prints both medians and their ratio, and the optimizer state bytes of Muon vs
// AdamW on the same matrices. Prints numbers only; asserts nothing.
//   npm run build:ts && npm run bench:muon [-- --threads N --steps S]
const os = require('os');
const path = require('path');
const readline = require('readline');
const { spawn } = require('child_process');

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

// torch.optim.Muon with Moonlight's scale; one step per 'step' line on stdin, its time in ms on stdout.
const PYTHON_STEPPER = `
import json, sys, time, torch
inp = json.loads(sys.stdin.readline())
torch.set_num_threads(inp['threads'])
torch.manual_seed(0)
params = [torch.nn.Parameter(torch.randn(s) * 0.02) for s in inp['shapes']]
for p in params:
    p.grad = torch.randn_like(p)
opt = torch.optim.Muon(params, adjust_lr_fn='match_rms_adamw')
opt.step()
print(json.dumps({'threads': torch.get_num_threads(), 'torch': torch.__version__}), flush=True)
for line in sys.stdin:
    start = time.perf_counter()
    opt.step()
    print((time.perf_counter() - start) * 1e3, flush=True)
`;

function startTorch() {
  const python = require('./oracle-python').oraclePython();
  const child = spawn(python, ['-c', PYTHON_STEPPER], {
    env: { ...process.env, OMP_NUM_THREADS: String(threads), PYTHONWARNINGS: 'ignore' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = () => new Promise((resolve) => waiting.push(resolve));
  return {
    ready: (() => {
      const info = next();
      child.stdin.write(`${JSON.stringify({ shapes: SHAPES, threads })}\n`);
      return info.then((line) => JSON.parse(line));
    })(),
    async step() {
      const reply = next();
      child.stdin.write('step\n');
      return Number(await reply);
    },
    close: () => child.stdin.end(),
  };
}

async function main() {
  moonlight.manualSeed(0);
  const params = Object.fromEntries(SHAPES.map((shape, i) => [`layers.${i}.weight`, moonlight.randn(shape).mul(0.02)]));
  const grads = Object.fromEntries(Object.entries(params).map(([name, p]) => [name, moonlight.randn([...p.shape])]));
  const muon = new moonlight.Muon(params, { updateScale: 'match-rms-adamw' });
  const adamw = new moonlight.AdamW(params);
  muon.stepSync(grads); // warm-up: first-touch allocations, oneDNN kernel selection
  const torch = startTorch();
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
