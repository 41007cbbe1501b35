// Long operations run off the JS thread: timers keep firing while they work.
import { manualSeed, randn, randnAsync } from '../src';

const tickMs = 5;

async function ticksDuring<T>(work: () => Promise<T> | T): Promise<{ ticks: number; elapsedMs: number }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, tickMs);
  const start = performance.now();
  await work();
  const elapsedMs = performance.now() - start;
  clearInterval(timer);
  return { ticks, elapsedMs };
}

test('matmulAsync leaves the event loop running; the same sync matmul blocks it', async () => {
  manualSeed(0);
  const a = randn([2000, 2000]);
  const sync = await ticksDuring(() => a.matmul(a).dispose());
  const asyncRun = await ticksDuring(async () => (await a.matmulAsync(a)).dispose());
  // The sync call holds the JS thread: no timer can fire until it returns.
  expect(sync.ticks).toBe(0);
  expect(sync.elapsedMs).toBeGreaterThan(4 * tickMs);
  // The async call takes about as long, but the timer fires all the while (allow for a loaded machine).
  expect(asyncRun.ticks).toBeGreaterThanOrEqual(Math.floor(asyncRun.elapsedMs / tickMs / 4));
  expect(asyncRun.ticks).toBeGreaterThan(2);
});

test('randnAsync gives the same numbers as randn for the same seed', async () => {
  manualSeed(99);
  const expected = randn([1000]).toNumbers();
  manualSeed(99);
  const big = await randnAsync([1000]);
  expect(big.toNumbers()).toEqual(expected);
});
