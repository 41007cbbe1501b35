'use strict';
// One rank of the distributed tests and bench (loads dist/). The job is a JSON object in
// MOONLIGHT_DIST_JOB: {task, rank, worldSize, port, timeoutMs, ...}; the result is one JSON line on stdout.
//   task 'init'        joins the process group (to provoke rendezvous errors) and leaves;
//   task 'collectives' runs allReduce / allGather / reduceScatter / broadcast on rank-dependent tensors;
//   task 'train'       trains a tiny MoE model `steps` steps on rank's share of a fixed global batch with
//                      {optimizer: 'muon' | 'adamw', mode: 'zero1' | 'whole-matrix' | null (single process)}
//                      and reports parameters, state bytes, bytes sent per step and step times.
const { CausalLM, Muon, AdamW, distributed, tensor } = require('../../dist');

const job = JSON.parse(process.env.MOONLIGHT_DIST_JOB);

function report(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
}

async function init() {
  await distributed.init({
    rank: job.rank,
    worldSize: job.worldSize,
    masterAddr: job.masterAddr ?? '127.0.0.1',
    masterPort: job.port,
    timeoutMs: job.timeoutMs ?? 20000,
  });
}

async function collectives() {
  const r = job.rank + 1;
  const mine = tensor([r, 2 * r, 3 * r], { dtype: 'float32' });
  const sum = await distributed.allReduce(mine, 'sum');
  const avg = await distributed.allReduce(mine, 'avg');
  const gathered = await distributed.allGather(mine);
  const rows = tensor(Array.from({ length: job.worldSize }, (_, i) => [10 * i + r, 100 * r]), { dtype: 'float32' });
  const scattered = await distributed.reduceScatter(rows, 'sum');
  const broadcast = await distributed.broadcast(mine, job.worldSize - 1);
  await distributed.barrier();
  return {
    sum: sum.toNumbers(),
    avg: avg.toNumbers(),
    gathered: gathered.tolist(),
    scattered: scattered.toNumbers(),
    broadcast: broadcast.toNumbers(),
    unchanged: mine.toNumbers(),
    bytesSent: distributed.bytesSent,
  };
}

function globalBatch(step) {
  return Array.from({ length: job.globalBatch }, (_, row) =>
    Array.from({ length: job.seqLen }, (_, c) => (step * 7919 + row * 131 + c * 37 + ((c * c) % 11)) % job.config.vocab_size),
  );
}

function makeOptimizer(params) {
  const distributedOption = job.mode ? { distributed: { mode: job.mode, bucketBytes: job.bucketBytes } } : {};
  if (job.optimizer === 'adamw') return new AdamW(params, { lr: 0.01, weightDecay: 0.1, ...distributedOption });
  return new Muon(params, { lr: 0.02, weightDecay: 0.1, nsDtype: job.nsDtype ?? 'float32', ...distributedOption });
}

async function train() {
  const model = CausalLM.fromConfig(job.config, { seed: 7 });
  const optimizer = makeOptimizer(model.namedParameters({ expertStacks: true }));
  const worldSize = job.mode ? job.worldSize : 1;
  const rank = job.mode ? job.rank : 0;
  const share = job.globalBatch / worldSize;
  const losses = [];
  const stepMs = [];
  const bytesBefore = distributed.bytesSent;
  for (let step = 0; step < job.steps; step++) {
    // job.replicate: every rank trains on the whole batch (the averaged gradient is then exactly the local one).
    const rows = job.replicate ? globalBatch(step) : globalBatch(step).slice(rank * share, (rank + 1) * share);
    const ids = tensor(rows, { dtype: 'int64' });
    const started = process.hrtime.bigint();
    const metrics = await model.trainStepAccumulated([{ inputIds: ids, labels: ids }], optimizer, {
      maxGradNorm: job.maxGradNorm ?? 1.0,
      routerBiasUpdateRate: 0,
    });
    stepMs.push(Number(process.hrtime.bigint() - started) / 1e6);
    ids.dispose();
    losses.push(metrics.loss);
  }
  const result = {
    losses,
    stepMs,
    stateBytes: optimizer.stateBytes(),
    bytesSentPerStep: (distributed.bytesSent - bytesBefore) / job.steps,
  };
  if (job.fullState) {
    const full = await optimizer.fullStateDict();
    // Gathered on every rank, reloaded (each rank keeps its part) and gathered again: a lossless round trip.
    optimizer.loadStateDict(full);
    const again = await optimizer.fullStateDict();
    result.fullState = Object.fromEntries(Object.entries(full).map(([name, t]) => [name, t.toNumbers()]));
    result.roundTripEqual = Object.keys(full).every((name) => {
      const after = again[name].toNumbers();
      return result.fullState[name].every((value, i) => value === after[i]);
    });
  }
  if (job.withParameters) {
    result.parameters = Object.fromEntries([...model.stateDict()].map(([name, t]) => [name, t.toNumbers()]));
  }
  return result;
}

async function main() {
  // The addon loads on first use (finding libtorch, maybe test-loading a prebuilt binary in a child process):
  // load it before the clock starts, so elapsedMs measures the rendezvous alone.
  void distributed.isInitialized;
  const started = Date.now();
  try {
    if (job.task === 'train' && !job.mode) {
      report({ ok: true, ...(await train()) });
      return;
    }
    await init();
    let result = {};
    if (job.task === 'collectives') result = await collectives();
    if (job.task === 'train') result = await train();
    report({ ok: true, ...result });
    distributed.destroy();
  } catch (error) {
    report({ ok: false, name: error.name, message: error.message, elapsedMs: Date.now() - started });
    process.exitCode = 1;
  }
}

main();
