'use strict';
// torch.optim.Muon as a stepping child process (scripts/oracle/muon_step_bench.py), for bench:muon and the GPU
// check: steps alternate with ours (one 'step' line at a time), so load from other processes on a shared
// machine hits both sides alike.
const path = require('path');
const readline = require('readline');
const { spawn } = require('child_process');

/** Starts the child; `ready` resolves to its {threads, torch, device}, step() to one step's time in ms. */
function startTorchMuon({ python, shapes, threads, device = 'cpu' }) {
  const child = spawn(python, [path.join(__dirname, 'oracle', 'muon_step_bench.py')], {
    env: { ...process.env, OMP_NUM_THREADS: String(threads), PYTHONWARNINGS: 'ignore' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  child.on('exit', (code) => {
    for (const resolve of waiting.splice(0)) resolve(JSON.stringify({ error: `torch.optim.Muon side exited (${code})` }));
  });
  const next = () => new Promise((resolve) => waiting.push(resolve));
  const info = next();
  child.stdin.write(`${JSON.stringify({ shapes, threads, device })}\n`);
  return {
    ready: info.then((line) => {
      const parsed = JSON.parse(line);
      if (parsed.error) throw new Error(parsed.error);
      return parsed;
    }),
    async step() {
      const reply = next();
      child.stdin.write('step\n');
      return Number(await reply);
    },
    close: () => child.stdin.end(),
  };
}

module.exports = { startTorchMuon };
