/**
 * `moonlight launch … train` on 2 ranks over loopback: data parallelism with ZeRO-1 Muon tracks the same
 * global batch on 1 process, rank 0 alone writes the run, and a 2-rank checkpoint resumes on 1 rank.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { processIsRunning } from './helpers/processes';

jest.setTimeout(300_000);

const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-trainer-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function moonlight(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8', timeout: 280_000, env: { ...process.env, MOONLIGHT_CACHE_DIR: path.join(scratch, 'cache') },
  });
}

const modelFlags = ['--hidden_size', '32', '--num_layers', '2', '--num_heads', '2', '--seq_len', '32', '--lr', '3e-3', '--warmup', '1',
  '--eval_every', '2', '--no-plot'];

function train(runDir: string): Array<{ type: string; step: number; loss?: number; tokens: number; valLoss?: number }> {
  return fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
}

test('2 ranks × batch 2 track 1 rank × batch 4; rank 0 writes the run once; the checkpoint resumes on 1 rank', () => {
  const twoRanks = path.join(scratch, 'two-ranks');
  const launched = moonlight('launch', '--nproc_per_node', '2', '--master_port', '0', 'train', ...modelFlags, '--batch_size', '2', '--steps', '4',
    '--out', twoRanks);
  expect(launched.stderr).not.toMatch(/Error/);
  expect(launched.status).toBe(0);
  expect(launched.stdout).toMatch(/\[rank 0\] finished at step 4\/4/);
  expect(launched.stdout).toMatch(/\[rank 1\] finished at step 4\/4/);
  const run = JSON.parse(fs.readFileSync(path.join(twoRanks, 'run.json'), 'utf8'));
  expect(run).toMatchObject({ worldSize: 2, distributed: 'zero1', status: 'completed', batchSize: 2 });

  const oneRank = path.join(scratch, 'one-rank');
  const single = moonlight('train', ...modelFlags, '--batch_size', '4', '--steps', '4', '--out', oneRank);
  expect(single.status).toBe(0);

  const distributedLines = train(twoRanks);
  const singleLines = train(oneRank);
  const trainOf = (lines: typeof singleLines) => lines.filter((l) => l.type === 'train');
  expect(trainOf(distributedLines).map((l) => l.step)).toEqual([1, 2, 3, 4]); // written once, not per rank
  expect(trainOf(distributedLines).map((l) => l.tokens)).toEqual(trainOf(singleLines).map((l) => l.tokens));
  // Same global batches and weights: the first loss agrees to rounding; later ones within bf16 Newton-Schulz noise.
  const pairs = trainOf(distributedLines).map((l, i) => [l.loss!, trainOf(singleLines)[i].loss!]);
  expect(Math.abs(pairs[0][0] - pairs[0][1])).toBeLessThan(1e-5);
  for (const [a, b] of pairs) expect(Math.abs(a - b)).toBeLessThan(2e-2);
  const evals = (lines: typeof singleLines) => lines.filter((l) => l.type === 'eval').map((l) => l.valLoss!);
  evals(distributedLines).forEach((value, i) => expect(Math.abs(value - evals(singleLines)[i])).toBeLessThan(2e-2));

  // Resume the 2-rank checkpoint on 1 rank, twice from copies: both continue with identical losses.
  const losses: number[][] = [];
  for (const copy of ['resume-a', 'resume-b']) {
    const folder = path.join(scratch, copy);
    fs.cpSync(twoRanks, folder, { recursive: true });
    const resumed = moonlight('train', ...modelFlags, '--batch_size', '4', '--steps', '6', '--resume', folder);
    expect(resumed.stderr).not.toMatch(/Error/);
    expect(resumed.status).toBe(0);
    expect(resumed.stdout).toMatch(/finished at step 6\/6/);
    losses.push(trainOf(train(folder)).filter((l) => l.step > 4).map((l) => l.loss!));
  }
  expect(losses[0]).toHaveLength(2);
  expect(losses[1]).toEqual(losses[0]);
});

/** The launcher's worker processes and their RANK, from /proc (workers are the launcher's children). */
function workersOf(launcherPid: number): Map<number, number> {
  const workers = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent !== launcherPid) continue;
      const environment = fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      const rank = environment.find((line) => line.startsWith('RANK='));
      if (rank !== undefined) workers.set(Number(rank.slice(5)), Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return workers;
}

test('SIGKILL of one rank mid-training: the launcher stops the other and fails naming the rank, within 30 s', async () => {
  const flags = modelFlags.filter((flag, i) => flag !== '--eval_every' && modelFlags[i - 1] !== '--eval_every');
  const launcher = spawn(process.execPath, [cli, 'launch', '--nproc_per_node', '2', '--master_port', '0', 'train', ...flags,
    '--batch_size', '2', '--steps', '100000', '--eval_every', '0', '--log_every', '1', '--out', path.join(scratch, 'killed')], {
    env: { ...process.env, MOONLIGHT_CACHE_DIR: path.join(scratch, 'cache') },
  });
  let stdout = '';
  let stderr = '';
  launcher.stdout.on('data', (chunk) => (stdout += chunk));
  launcher.stderr.on('data', (chunk) => (stderr += chunk));
  let running = true;
  const exited = new Promise<number | null>((resolve) => launcher.on('exit', (code) => { running = false; resolve(code); }));
  const deadline = Date.now() + 120_000;
  while (running && !/\[rank 0\] step 3\//.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(stderr).toMatch(/\[rank 0\] step 3\//); // training is under way on both ranks
  const workers = workersOf(launcher.pid!);
  expect([...workers.keys()].sort()).toEqual([0, 1]);
  const killedAt = Date.now();
  process.kill(workers.get(1)!, 'SIGKILL');
  const code = await exited;
  expect(Date.now() - killedAt).toBeLessThan(30_000);
  expect(code).not.toBe(0);
  expect(stderr).toMatch(/moonlight launch: rank 1 \(pid \d+\) was killed by SIGKILL/);
  for (const pid of workers.values()) expect(processIsRunning(pid)).toBe(false);
  expect(stdout).not.toMatch(/finished at step/);
});
