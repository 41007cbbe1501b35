'use strict';
// Child process of the off-thread test: one operation in a fresh Node process, as an application would run
// it, with the event loop's largest delay (perf_hooks.monitorEventLoopDelay, 5 ms resolution) meanwhile.
//   create <config.json> <dtype>   CausalLM.create with seed 1
//   load <folder>                  CausalLM.fromPretrained
//   trainer-setup <scratch>        a Trainer's setup(), after a first run has made the token cache
// Prints one JSON line: { stallMs, seconds, gcPausesMs, ... }. gcPausesMs lists this process's own
// garbage-collection pauses in the window, so a failure says whether V8's collector or our code held the thread.
const fs = require('fs');
const path = require('path');
const { monitorEventLoopDelay, PerformanceObserver } = require('perf_hooks');
const { CausalLM, cudaAvailable, Trainer } = require('../../dist');

async function largestStall(work) {
  const gcPausesMs = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcPausesMs.push(Math.round(entry.duration * 10) / 10);
  });
  observer.observe({ entryTypes: ['gc'] });
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  const start = performance.now();
  histogram.enable();
  try {
    const result = await work();
    return { result, stallMs: histogram.max / 1e6, seconds: (performance.now() - start) / 1000, gcPausesMs };
  } finally {
    histogram.disable();
    observer.disconnect();
  }
}

async function main() {
  const [operation, target, dtype] = process.argv.slice(2);
  cudaAvailable(); // loads the addon (libtorch's dlopen, once per process): not what is measured
  if (operation === 'create') {
    const config = JSON.parse(fs.readFileSync(target, 'utf8'));
    const { result: model, ...measured } = await largestStall(() => CausalLM.create(config, { seed: 1, dtype }));
    const report = { ...measured, dtype: model.dtype, numParameters: model.numParameters() };
    model.dispose();
    return report;
  }
  if (operation === 'load') {
    const { result: model, ...measured } = await largestStall(() => CausalLM.fromPretrained(target));
    const report = { ...measured, dtype: model.dtype, numParameters: model.numParameters() };
    model.dispose();
    return report;
  }
  if (operation === 'trainer-setup') {
    const options = {
      model: 'moonlight-tiny', tokenizer: 'byte', dataset: 'moby-dick', batchSize: 4, seqLen: 64, maxSteps: 1,
      cacheDir: path.join(target, 'cache'),
    };
    const warm = new Trainer({ ...options, outDir: path.join(target, 'warm') });
    await warm.fit();
    warm.dispose();
    const trainer = new Trainer({ ...options, outDir: path.join(target, 'measured') });
    try {
      const { result: _unused, ...measured } = await largestStall(() => trainer.setup());
      return measured;
    } finally {
      trainer.dispose();
    }
  }
  throw new Error(`unknown operation ${operation}`);
}

main().then(
  (report) => process.stdout.write(`${JSON.stringify(report)}\n`),
  (error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  },
);
