#!/usr/bin/env node
'use strict';
// Memory benchmark of the Tensor bridge (run with --expose-gc; `npm run bench:memory`):
//  1. creates and disposes 100,000 small tensors (plus one op each) and reports the RSS change;
//  2. creates 3,000 tensors of 256 KiB and forgets them, twice, reporting whether the FinalizationRegistry
//     safety net freed them (live tensors back to 0, the second round reusing the first round's memory).
// Prints a human summary, and one JSON line last (read by test/memory.test.ts).
const { memoryStats, tensor, zeros } = require('../dist');

const smallTensorCount = 100_000;
const warmupCount = 100_000; // libtorch pages in code and fills its allocator caches during the first ~100k
const forgottenCount = 3_000;
const forgottenElements = 65_536; // float32: 256 KiB each
const mib = 1024 * 1024;

if (typeof global.gc !== 'function') {
  console.error('run with node --expose-gc (npm run bench:memory does)');
  process.exit(2);
}

const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

async function settledRss() {
  // Two GC rounds with the loop in between let FinalizationRegistry callbacks and native finalizers run.
  for (let round = 0; round < 3; round++) {
    global.gc();
    await yieldToLoop();
  }
  return process.memoryUsage().rss;
}

async function createAndDispose(count) {
  for (let i = 0; i < count; i++) {
    const t = tensor([i, i + 1, i + 2, i + 3]);
    const u = t.add(1);
    u.dispose();
    t.dispose();
    if (i % 1000 === 999) await yieldToLoop();
  }
}

async function forget(count) {
  for (let i = 0; i < count; i++) {
    zeros([forgottenElements]);
    if (i % 50 === 49) await yieldToLoop();
  }
}

async function main() {
  await createAndDispose(warmupCount);
  const rssBefore = await settledRss();
  const start = performance.now();
  await createAndDispose(smallTensorCount);
  const elapsedMs = performance.now() - start;
  const rssAfter = await settledRss();
  await forget(forgottenCount);
  const rssAfterForgotten = await settledRss();
  // glibc keeps freed 256 KiB chunks for reuse instead of returning them to the OS: a second round
  // must reuse them rather than grow again.
  await forget(forgottenCount);
  const rssAfterSecondForgotten = await settledRss();
  const stats = memoryStats();

  const result = {
    smallTensorCount,
    rssBeforeBytes: rssBefore,
    rssAfterBytes: rssAfter,
    rssGrowthFraction: (rssAfter - rssBefore) / rssBefore,
    microsecondsPerCreateOpDispose: (elapsedMs * 1000) / smallTensorCount,
    forgottenBytes: forgottenCount * forgottenElements * 4,
    rssGrowthAfterForgottenBytes: rssAfterForgotten - rssAfter,
    rssGrowthSecondForgottenRoundBytes: rssAfterSecondForgotten - rssAfterForgotten,
    liveTensorsAtEnd: stats.liveTensors,
    liveHostBytesAtEnd: stats.liveHostBytes,
  };
  console.log(
    `100k create+add+dispose: RSS ${(rssBefore / mib).toFixed(1)} MiB -> ${(rssAfter / mib).toFixed(1)} MiB ` +
      `(${(result.rssGrowthFraction * 100).toFixed(2)} %, target within 10 %), ` +
      `${result.microsecondsPerCreateOpDispose.toFixed(1)} µs per iteration`,
  );
  console.log(
    `${forgottenCount} forgotten 256 KiB tensors (${(result.forgottenBytes / mib).toFixed(0)} MiB): RSS grew ` +
      `${(result.rssGrowthAfterForgottenBytes / mib).toFixed(1)} MiB after GC (allocator cache), a second round ` +
      `${(result.rssGrowthSecondForgottenRoundBytes / mib).toFixed(1)} MiB more; ` +
      `${stats.liveTensors} tensors (${(stats.liveHostBytes / mib).toFixed(1)} MiB) still live`,
  );
  console.log(JSON.stringify(result));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
