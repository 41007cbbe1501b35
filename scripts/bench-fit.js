#!/usr/bin/env node
'use strict';
// npm run bench:fit — the Trainer's end-to-end cost, in one run:
//  1. throughput: steps/s of trainer.fit() (data from the memory-mapped token cache, gathered while the
//     previous step runs; metrics.jsonl; lr schedule) against the bare step loop that bench:train times
//     (trainStep + optimizer.step on ready batches), same model, optimizer and batches; target ratio ≥ 0.95;
//  2. memory: RSS over 1,000 tiny steps of fit(), sampled after step 100 (warm) and at the end; target
//     within ±5 %.
// The two sides of (1) alternate for BENCH_ROUNDS rounds and each keeps its best rate (the least
// disturbed on a shared machine). Prints numbers; asserts nothing.
// Options (environment): BENCH_STEPS (timed steps per round, default 20), BENCH_ROUNDS (2), BENCH_BATCH (16),
// BENCH_SEQ (256), BENCH_MEMORY_STEPS (1000).
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const lib = require(path.join(root, 'dist'));

const steps = Number(process.env.BENCH_STEPS || 20);
const rounds = Number(process.env.BENCH_ROUNDS || 3);
const batch = Number(process.env.BENCH_BATCH || 16);
const seqLen = Number(process.env.BENCH_SEQ || 256);
const memorySteps = Number(process.env.BENCH_MEMORY_STEPS || 1000);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'moonlight-bench-fit-'));
const cacheDir = path.join(scratch, 'cache');

function trainerOptions(name, extra) {
  return {
    model: 'moonlight-tiny', tokenizer: 'byte', dataset: 'moby-dick', optimizer: 'muon', batchSize: batch, seqLen,
    schedule: 'constant', evalEvery: 0, cacheDir, outDir: path.join(scratch, name), ...extra,
  };
}

// The loop bench:train times (trainStep then optimizer.step on batches gathered beforehand), on the very
// batches fit() trains on: the same seed, data order and weights, so the two sides do the same maths and
// the ratio is the Trainer's own overhead.
async function bareLoopRate(config) {
  const tokenizer = await lib.loadTokenizer('byte');
  const dataset = await lib.TokenDataset.prepare(lib.resolveDataset('moby-dick').files, { tokenizer, seqLen, cacheDir });
  const sampler = new lib.BatchSampler(dataset, { batchSize: batch, seed: 0 });
  const batches = [];
  for (let i = 0; i <= steps; i++) batches.push(await dataset.batch('train', sampler.next().indices));
  const model = lib.CausalLM.fromConfig(config, { seed: 0 });
  const optimizer = new lib.Muon(model.namedParameters({ expertStacks: true }), { lr: 1e-3, weightDecay: 0.1 });
  const step = async (ids) => {
    await model.trainStep(ids, { labels: ids });
    await optimizer.step();
    optimizer.zeroGrad();
  };
  await step(batches[0]);
  const start = process.hrtime.bigint();
  for (let i = 1; i <= steps; i++) await step(batches[i]);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  batches.forEach((ids) => ids.dispose());
  model.dispose();
  dataset.dispose();
  return steps / seconds;
}

async function fitRate(round) {
  const trainer = new lib.Trainer(trainerOptions(`throughput-${round}`, { maxSteps: steps + 1 }));
  await trainer.setup();
  // From the end of the first step (a warm-up, as the bare loop's) to the end of the last: the final
  // checkpoint fit() writes after it is not a step.
  let start = null;
  let end = null;
  trainer.on('step', (event) => {
    if (event.step === 1) start = process.hrtime.bigint();
    end = process.hrtime.bigint();
  });
  await trainer.fit();
  const seconds = Number(end - start) / 1e9;
  const config = trainer.model.config.hf;
  trainer.dispose();
  return { rate: steps / seconds, config };
}

async function memoryRun() {
  const trainer = new lib.Trainer(trainerOptions('memory', {
    batchSize: 2, seqLen: 32, maxSteps: memorySteps, modelSize: { hiddenSize: 32, numLayers: 2, numHeads: 2 },
  }));
  const samples = {};
  trainer.on('step', (event) => {
    if (event.step === 100 || event.step === memorySteps) samples[event.step] = process.memoryUsage().rss;
  });
  const started = Date.now();
  await trainer.fit();
  trainer.dispose();
  return { warm: samples[100], end: samples[memorySteps], seconds: (Date.now() - started) / 1000 };
}

async function main() {
  console.log(`moonlight-torch bench:fit — moonlight-tiny MoE + Muon, batch ${batch} × ${seqLen} tokens, ${steps} timed steps × ${rounds} rounds; ` +
    `libtorch ${lib.libtorchVersion}, ${os.cpus().length} CPUs`);
  // Memory first, while the process is small, so the ±5 % is of a lean RSS.
  const memory = await memoryRun();
  let bestFit = 0;
  let bestBare = 0;
  for (let round = 0; round < rounds; round++) {
    const fit = await fitRate(round);
    bestFit = Math.max(bestFit, fit.rate);
    bestBare = Math.max(bestBare, await bareLoopRate(fit.config));
  }
  const ratio = bestFit / bestBare;
  console.log(`throughput: fit() ${bestFit.toFixed(3)} steps/s (${Math.round(bestFit * batch * seqLen)} tok/s), ` +
    `bare step loop ${bestBare.toFixed(3)} steps/s; ratio ${ratio.toFixed(3)} (target ≥ 0.95)`);
  const change = (memory.end - memory.warm) / memory.warm;
  console.log(`memory: ${memorySteps} tiny steps in ${memory.seconds.toFixed(1)} s; RSS after step 100 ${(memory.warm / 2 ** 20).toFixed(1)} MiB, ` +
    `after step ${memorySteps} ${(memory.end / 2 ** 20).toFixed(1)} MiB: ${(100 * change).toFixed(2)} % (target within ±5 %)`);
  console.log(JSON.stringify({ fitStepsPerSecond: bestFit, bareStepsPerSecond: bestBare, ratio, rssWarm: memory.warm, rssEnd: memory.end, rssChange: change }));
  fs.rmSync(scratch, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
