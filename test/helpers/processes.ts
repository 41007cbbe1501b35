import * as fs from 'fs';

/**
 * Whether a process runs. A zombie does not: where PID 1 does not reap orphans (some containers), a
 * killed grandchild stays a zombie, and process.kill(pid, 0) still succeeds on it.
 */
export function processIsRunning(pid: number): boolean {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    if (fs.existsSync('/proc/self')) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  return state !== 'Z' && state !== 'X';
}
