// Long operations run off the JS thread: timers keep firing while they work.
import { manualSeed, randn, randnAsync } from '../src';

const tickMs = 5;

/** Timer ticks during `work`, and the longest stretch without one (from the start to the end). */
async function ticksDuring<T>(work: () => Promise<T> | T): Promise<{ ticks: number; elapsedMs: number; maxGapMs: number }> {
  const start = performance.now();
  const times = [start];
  const timer = setInterval(() => times.push(performance.now()), tickMs);
  await work();
  const end = performance.now();
  clearInterval(timer);
  times.push(end);
  const maxGapMs = Math.max(...times.slice(1).map((t, i) => t - times[i]));
  return { ticks: times.length - 2, elapsedMs: end - start, maxGapMs };
}

test('matmulAsync leaves the event loop running; the same sync matmul blocks it', async () => {
  manualSeed(0);
  const a = randn([2000, 2000]);
  const sync = await ticksDuring(() => a.matmul(a).dispose());
  const asyncRun = await ticksDuring(async () => (await a.matmulAsync(a)).dispose());
  // The sync call holds the JS thread: no timer can fire until it returns.
  expect(sync.ticks).toBe(0);
  expect(sync.elapsedMs).toBeGreaterThan(4 * tickMs);
  // The async call takes about as long, but the timer fires all the while: never a stretch of half the
  // call without a tick. (How many ticks fire depends on the machine: on 2 cores the matmul's two threads and
  // another test worker compete with the JS thread for CPU — 10 of a possible 52 once, under load.)
  expect(asyncRun.ticks).toBeGreaterThan(2);
  expect(asyncRun.maxGapMs).toBeLessThan(asyncRun.elapsedMs / 2);
});

test('randnAsync gives the same numbers as randn for the same seed', async () => {
  manualSeed(99);
  const expected = randn([1000]).toNumbers();
  manualSeed(99);
  const big = await randnAsync([1000]);
  expect(big.toNumbers()).toEqual(expected);
});
