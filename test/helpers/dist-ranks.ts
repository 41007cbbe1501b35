/**
 * Runs ranks of test/helpers/dist-child.js as Node child processes on 127.0.0.1 and collects their JSON
 * reports. Children that are still running when a test ends are killed by killAllRanks() (afterAll).
 */
import { ChildProcess, spawn } from 'child_process';
import * as net from 'net';
import * as path from 'path';

const child = path.join(__dirname, 'dist-child.js');
const running = new Set<ChildProcess>();

export interface RankReport {
  ok: boolean;
  name?: string;
  message?: string;
  elapsedMs?: number;
  [key: string]: unknown;
}

/** A TCP port that was free a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Runs one child with `job` and resolves with its report (a failed report when it printed none). */
export function runRank(job: Record<string, unknown>): Promise<RankReport> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [child], {
      env: { ...process.env, MOONLIGHT_DIST_JOB: JSON.stringify(job) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(proc);
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk) => (stdout += chunk));
    proc.stderr.on('data', (chunk) => (stderr += chunk));
    proc.once('exit', (code, signal) => {
      running.delete(proc);
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as RankReport);
      } catch {
        resolve({ ok: false, message: `rank exited (${code ?? signal}) without a report: ${stderr}` });
      }
    });
  });
}

/** All ranks of one world, same job, on a fresh port. */
export async function runWorld(worldSize: number, job: Record<string, unknown>): Promise<RankReport[]> {
  const port = await freePort();
  return Promise.all(Array.from({ length: worldSize }, (_, rank) => runRank({ ...job, rank, worldSize, port })));
}

export function killAllRanks(): void {
  for (const proc of running) proc.kill('SIGKILL');
  running.clear();
}
