// The process group: collectives between two Node processes against hand-derived values, and rendezvous
// failures (busy port, unreachable master) that must be DistributedErrors within the timeout.
import * as net from 'net';
import { freePort, killAllRanks, runRank, runWorld } from './helpers/dist-ranks';

afterAll(killAllRanks);

test('allReduce / allGather / reduceScatter / broadcast between 2 ranks give the hand-derived values', async () => {
  const [rank0, rank1] = await runWorld(2, { task: 'collectives', timeoutMs: 20000 });
  expect(rank0.ok).toBe(true);
  expect(rank1.ok).toBe(true);
  // rank r holds (r+1)·[1, 2, 3]
  for (const report of [rank0, rank1]) {
    expect(report.sum).toEqual([3, 6, 9]);
    expect(report.avg).toEqual([1.5, 3, 4.5]);
    expect(report.gathered).toEqual([[1, 2, 3], [2, 4, 6]]);
    expect(report.broadcast).toEqual([2, 4, 6]); // from rank 1
  }
  // reduceScatter of rows [10·i + r + 1, 100·(r + 1)]: row i summed over r = [20·i + 3, 300]
  expect(rank0.scattered).toEqual([3, 300]);
  expect(rank1.scattered).toEqual([23, 300]);
  expect(rank0.unchanged).toEqual([1, 2, 3]); // collectives return new tensors
  // 2 all-reduces of 12 bytes (2·(W−1)/W each: 12), all-gather 12, reduce-scatter 8; rank 1 broadcasts 12 more
  expect(rank0.bytesSent).toBe(44);
  expect(rank1.bytesSent).toBe(56);
}, 60_000);

test('a rank that starts before the master waits for it, then joins', async () => {
  const port = await freePort();
  const early = runRank({ task: 'collectives', rank: 1, worldSize: 2, port, timeoutMs: 20000 });
  await new Promise((resolve) => setTimeout(resolve, 2000)); // rank 1 finds the port closed a few times
  const late = runRank({ task: 'collectives', rank: 0, worldSize: 2, port, timeoutMs: 20000 });
  const [rank1, rank0] = await Promise.all([early, late]);
  expect(rank0.ok).toBe(true);
  expect(rank1.ok).toBe(true);
  expect(rank0.sum).toEqual([3, 6, 9]);
  expect(rank1.sum).toEqual([3, 6, 9]);
}, 60_000);

test('a busy MASTER_PORT is a DistributedError on rank 0 within the timeout', async () => {
  const blocker = net.createServer();
  const port = await new Promise<number>((resolve) =>
    blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)),
  );
  try {
    const started = Date.now();
    const report = await runRank({ task: 'init', rank: 0, worldSize: 2, port, timeoutMs: 3000 });
    expect(report.ok).toBe(false);
    expect(report.name).toBe('DistributedError');
    expect(report.message).toMatch(new RegExp(`rank 0 could not serve the rendezvous on port ${port}.*already in use`));
    expect(Date.now() - started).toBeLessThan(3000 + 10_000); // the timeout plus Node start-up
  } finally {
    blocker.close();
  }
}, 60_000);

test('an unreachable master is a DistributedError on the other ranks within the timeout', async () => {
  const port = await freePort(); // nobody listens there
  const report = await runRank({ task: 'init', rank: 1, worldSize: 2, port, timeoutMs: 2000 });
  expect(report.ok).toBe(false);
  expect(report.name).toBe('DistributedError');
  expect(report.message).toMatch(new RegExp(`could not reach the master 127\\.0\\.0\\.1:${port} within 2000 ms`));
  expect(report.message).toMatch(/Connection refused/);
  // The whole rendezvous keeps to one deadline (cpp/dist/rendezvous.cpp): the error comes at the timeout, not
  // after libtorch's own connect retries; the margin is for a loaded CI machine only.
  expect(report.elapsedMs).toBeGreaterThanOrEqual(2000 - 50);
  expect(report.elapsedMs).toBeLessThan(2000 + 1000);
}, 60_000);

test('rank 0 alone, waiting for a rank that never comes, fails within the timeout', async () => {
  const port = await freePort();
  const report = await runRank({ task: 'init', rank: 0, worldSize: 2, port, timeoutMs: 2000 });
  expect(report.ok).toBe(false);
  expect(report.name).toBe('DistributedError');
  expect(report.message).toMatch(/only 1 of 2 ranks joined the rendezvous within 2000 ms \(rank 0 of 2/);
  expect(report.elapsedMs).toBeGreaterThanOrEqual(2000 - 50);
  expect(report.elapsedMs).toBeLessThan(2000 + 1000);
}, 60_000);
