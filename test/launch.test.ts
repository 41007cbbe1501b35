// `moonlight launch` (the compiled CLI, as users run it) and the launch() API behind it.
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Writable } from 'stream';
import { launch } from '../src/dist/launcher';
import { ArgumentError } from '../src/errors';
import { processIsRunning } from './helpers/processes';

const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
const worker = path.join(__dirname, 'helpers', 'launch-worker.js');

/** Every process a test started or learned about, killed in afterAll whatever happened. */
const startedPids = new Set<number>();

interface Launcher {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or the signal's name) once the launcher has exited. */
  exited: Promise<number | NodeJS.Signals>;
}

function startLauncher(...args: string[]): Launcher {
  const child = spawn(process.execPath, [cli, 'launch', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  startedPids.add(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal!)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The worker and child pids the `loop` / `exit` / `leave-child` workers print, by rank, once all have. */
function printedPids(stdout: string, ranks: number): Map<number, { worker: number; child: number }> | undefined {
  const pids = new Map<number, { worker: number; child: number }>();
  for (const match of stdout.matchAll(/^\[rank (\d+)\] rank \d+ pid (\d+) child (\d+)$/gm)) {
    pids.set(Number(match[1]), { worker: Number(match[2]), child: Number(match[3]) });
    startedPids.add(Number(match[2]));
    startedPids.add(Number(match[3]));
  }
  return pids.size === ranks ? pids : undefined;
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'launch-'));
}

afterAll(() => {
  for (const pid of startedPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

test('2 workers get torchrun\'s environment; their lines carry their rank on the stream they were written to', async () => {
  const out = tempDir();
  const run = startLauncher('--nproc_per_node', '2', '--master_port', '29517', worker, 'env', out);
  expect(await run.exited).toBe(0);
  for (const rank of [0, 1]) {
    const env = JSON.parse(fs.readFileSync(path.join(out, `rank-${rank}.json`), 'utf8'));
    expect(env).toMatchObject({
      RANK: String(rank), WORLD_SIZE: '2', LOCAL_RANK: String(rank), LOCAL_WORLD_SIZE: '2', GROUP_RANK: '0', GROUP_WORLD_SIZE: '1',
      MASTER_ADDR: '127.0.0.1', MASTER_PORT: '29517', MOONLIGHT_LAUNCHED: '1', OMP_NUM_THREADS: '1',
    });
    expect(run.stdout()).toContain(`[rank ${rank}] stdout of ${rank}\n`);
    // A last line without its newline is still passed on, whole, when the worker exits.
    expect(run.stdout()).toContain(`[rank ${rank}] unfinished line of ${rank}\n`);
    expect(run.stderr()).toContain(`[rank ${rank}] stderr of ${rank}\n`);
  }
  expect(run.stdout()).not.toContain('stderr of');
  expect(run.stderr()).not.toContain('stdout of');
  for (const line of run.stdout().trimEnd().split('\n')) expect(line).toMatch(/^\[rank [01]\] /);
});

test('everything after the script name reaches the workers untouched, launcher flags included', async () => {
  const scriptArgs = ['--foo', '1', '--nproc_per_node', '3', '-x', '007', '--', 'train', '--help'];
  const run = startLauncher('--nproc_per_node', '2', worker, 'args', ...scriptArgs);
  expect(await run.exited).toBe(0);
  const lines = run.stdout().trimEnd().split('\n').sort();
  expect(lines).toEqual([0, 1].map((rank) => `[rank ${rank}] ${JSON.stringify(scriptArgs)}`));
});

test('a worker killed by SIGKILL: the launcher stops the other and its children, exits non-zero naming the rank', async () => {
  const run = startLauncher('--nproc_per_node', '2', worker, 'loop');
  const pids = await waitFor('both workers to print their pids', () => printedPids(run.stdout(), 2));
  const killedAt = Date.now();
  process.kill(pids.get(1)!.worker, 'SIGKILL');
  const code = await run.exited;
  expect(Date.now() - killedAt).toBeLessThan(30_000);
  expect(code).not.toBe(0);
  expect(run.stderr()).toContain(`moonlight launch: rank 1 (pid ${pids.get(1)!.worker}) was killed by SIGKILL; stopped the other workers\n`);
  for (const { worker: workerPid, child } of pids.values()) {
    expect(processIsRunning(workerPid)).toBe(false);
    expect(processIsRunning(child)).toBe(false); // the dead rank's child too: no orphans
  }
});

test('a worker exiting with code 3: the launcher exits non-zero naming the rank and the code', async () => {
  const run = startLauncher('--nproc_per_node', '2', worker, 'exit', '3');
  const code = await run.exited;
  const pids = printedPids(run.stdout(), 2)!;
  expect(code).toBe(1);
  expect(run.stderr()).toContain(`moonlight launch: rank 1 (pid ${pids.get(1)!.worker}) exited with code 3; stopped the other workers\n`);
  for (const { worker: workerPid, child } of pids.values()) {
    expect(processIsRunning(workerPid)).toBe(false);
    expect(processIsRunning(child)).toBe(false);
  }
});

test('a worker that ignores SIGTERM after another failed is killed once --grace_period_s is over', async () => {
  const run = startLauncher('--nproc_per_node', '2', '--grace_period_s', '1', worker, 'stubborn');
  const started = Date.now();
  expect(await run.exited).toBe(1);
  const pids = printedPids(run.stdout(), 2)!;
  expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  expect(run.stdout()).toContain('[rank 0] rank 0 ignores SIGTERM\n');
  expect(run.stderr()).toContain(`moonlight launch: rank 1 (pid ${pids.get(1)!.worker}) exited with code 3; stopped the other workers\n`);
  for (const { worker: workerPid, child } of pids.values()) {
    expect(processIsRunning(workerPid)).toBe(false);
    expect(processIsRunning(child)).toBe(false);
  }
});

test('SIGTERM to the launcher is forwarded; workers that handle it exit, and so does the launcher', async () => {
  const run = startLauncher('--nproc_per_node', '2', worker, 'sigterm');
  await waitFor('both workers to be ready', () => (run.stdout().match(/ready$/gm)?.length === 2 ? true : undefined));
  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(128 + os.constants.signals.SIGTERM);
  expect(run.stdout()).toContain('[rank 0] rank 0 got SIGTERM\n');
  expect(run.stdout()).toContain('[rank 1] rank 1 got SIGTERM\n');
  expect(run.stderr()).toContain('moonlight launch: received SIGTERM; forwarded it to the workers');
});

test.each([
  [['--nproc_per_node', '0'], /--nproc_per_node must be an integer ≥ 1, got 0/],
  [['--nnodes', '2', '--node_rank', '2', '--nproc_per_node', '1'], /--node_rank must be an integer in 0\.\.1 \(below --nnodes 2\), got 2/],
  [['--nproc_per_node', '1', '--master_port', '70000'], /--master_port must be a port in 1\.\.65535, or 0 for a free one, got 70000/],
  [['--nproc_per_node', '1', '--nnodes', '2', '--master_port', '0'], /--master_port 0 \(pick a free port\) works with --nnodes 1 only/],
  [['--nproc', '2'], /Unknown argument: nproc/],
  [['--nproc_per_node', '2', 'no-such-worker.js'], /the worker script no-such-worker\.js does not exist/],
])('bad flags %j: one clear line, exit non-zero, no worker started', async (flags, message) => {
  const out = tempDir();
  const args = flags.includes('no-such-worker.js') ? flags : [...flags, worker, 'env', out];
  const run = startLauncher(...args);
  expect(await run.exited).not.toBe(0);
  expect(run.stderr()).toMatch(new RegExp(`^moonlight: ArgumentError: ${message.source}.*\\n$`));
  expect(run.stderr().trimEnd().split('\n')).toHaveLength(1);
  expect(run.stdout()).toBe('');
  expect(fs.readdirSync(out)).toEqual([]);
});

describe('launch() API', () => {
  function collector() {
    let text = '';
    const stream = new Writable({ write: (chunk, _encoding, done) => ((text += String(chunk)), done()) });
    return { stream, text: () => text };
  }

  test('master port 0 picks a free port; children left behind by workers that exited 0 are stopped', async () => {
    const out = tempDir();
    const stdout = collector();
    const logged: string[] = [];
    const options = { nprocPerNode: 2, masterPort: 0, stdout: stdout.stream, stderr: collector().stream, log: (line: string) => logged.push(line), forwardSignals: false };
    const envRun = await launch({ ...options, script: worker, scriptArgs: ['env', out] });
    expect(envRun.exitCode).toBe(0);
    expect(envRun.masterPort).toBeGreaterThan(0);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'rank-1.json'), 'utf8')).MASTER_PORT).toBe(String(envRun.masterPort));
    expect(envRun.workers.map((w) => [w.rank, w.exitCode, w.signal])).toEqual([[0, 0, null], [1, 0, null]]);

    const leaveRun = await launch({ ...options, script: worker, scriptArgs: ['leave-child'] });
    expect(leaveRun.exitCode).toBe(0);
    expect(leaveRun.failure).toBeUndefined();
    const pids = printedPids(stdout.text(), 2)!;
    for (const { child } of pids.values()) expect(processIsRunning(child)).toBe(false);
  });

  test('invalid options reject with an ArgumentError before anything starts', async () => {
    await expect(launch({ script: worker, nprocPerNode: 1.5 })).rejects.toThrow(ArgumentError);
    await expect(launch({ script: 'missing.js', nprocPerNode: 1 })).rejects.toThrow(/missing\.js does not exist/);
  });
});
