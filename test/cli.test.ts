// The `moonlight` CLI (compiled dist/, as users run it).
import { spawnSync } from 'child_process';
import * as path from 'path';
import { libtorchVersion } from '../src';

const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');

function moonlight(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
}

test('info --json reports the libtorch in use', () => {
  const run = moonlight('info', '--json');
  expect(run.status).toBe(0);
  const facts = JSON.parse(run.stdout);
  expect(facts.libtorchVersion).toBe(libtorchVersion);
  expect(['LIBTORCH', 'python', 'local']).toContain(facts.libtorchRoute);
  expect(typeof facts.cudaAvailable).toBe('boolean');
});

test('an unknown command fails with a non-zero exit and says why', () => {
  const run = moonlight('trian');
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(/Unknown command: trian/);
});

test('--help lists the commands', () => {
  const run = moonlight('--help');
  expect(run.status).toBe(0);
  expect(run.stdout).toContain('moonlight info');
});
