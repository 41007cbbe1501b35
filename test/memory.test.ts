// Memory stays flat: disposed tensors are freed, forgotten ones are freed by the FinalizationRegistry
// safety net. Runs scripts/bench-memory.js in a fresh process (it needs --expose-gc for settled figures).
import { spawnSync } from 'child_process';
import * as path from 'path';
import { memoryStats, tensor, zeros } from '../src';

interface MemoryReport {
  rssGrowthFraction: number;
  forgottenBytes: number;
  rssGrowthSecondForgottenRoundBytes: number;
  liveTensorsAtEnd: number;
}

test('100k create+dispose keeps RSS within 10 %; forgotten tensors are all freed', () => {
  const script = path.join(__dirname, '..', 'scripts', 'bench-memory.js');
  const run = spawnSync(process.execPath, ['--expose-gc', script], { encoding: 'utf8', timeout: 120_000 });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const lines = run.stdout.trim().split('\n');
  const report = JSON.parse(lines[lines.length - 1]) as MemoryReport;
  expect(report.rssGrowthFraction).toBeLessThanOrEqual(0.1);
  expect(report.liveTensorsAtEnd).toBe(0);
  expect(report.rssGrowthSecondForgottenRoundBytes).toBeLessThan(0.25 * report.forgottenBytes);
}, 180_000);

test('memoryStats counts live tensors and their host bytes', () => {
  const before = memoryStats();
  const a = zeros([1000]); // 4000 bytes
  const b = tensor([1, 2], { dtype: 'float64' }); // 16 bytes
  const during = memoryStats();
  expect(during.liveTensors - before.liveTensors).toBe(2);
  expect(during.liveHostBytes - before.liveHostBytes).toBe(4016);
  a.dispose();
  b.dispose();
  b.dispose();
  expect(memoryStats().liveTensors).toBe(before.liveTensors);
  expect(memoryStats().liveHostBytes).toBe(before.liveHostBytes);
});
