'use strict';
// The GPU check's benchmarks: ours and PyTorch's side on the same device, both figures and their ratio, against
// the targets bench:muon, bench:train and bench:generate state. A benchmark 'passed' when it ran; targetMet
// says whether the ratio met its target. On the CPU (MOONLIGHT_GPU_CHECK_DEVICE=cpu, to prove the checks run)
// each uses a small workload, recorded in the result; its figures say nothing about a GPU.
const fs = require('fs');
const os = require('os');
const path = require('path');
const configs = require('../bench-configs');
const { startTorchMuon } = require('../bench-muon-torch');
const { oracleFiles, runOracle, median, timed, root } = require('./oracles');

const lib = () => require(path.join(root, 'dist'));
const onCpu = (device) => device === 'cpu';
const threads = os.availableParallelism();

function tokenBatch(batch, seqLen, vocab) {
  return Array.from({ length: batch }, (_, b) => Array.from({ length: seqLen }, (_, t) => (b * 7919 + t * 104729 + 13) % vocab));
}

/** Reads one value back from the device, so a timing includes the work queued on it. */
const settle = (tensor) => () => tensor.sum().item();

/** One Muon step on bench:muon's 30 matrices, ours vs torch.optim.Muon, alternating steps (target ≤ 0.6×). */
async function muonStep({ python, device }) {
  const { manualSeed, randn, Muon } = lib();
  const shapes = configs.muonMatrices;
  const steps = onCpu(device) ? 3 : 30;
  manualSeed(0);
  const params = Object.fromEntries(shapes.map((shape, i) => [`layers.${i}.weight`, randn(shape, { device }).mul(0.02)]));
  for (const p of Object.values(params)) p.grad = randn([...p.shape], { device });
  const muon = new Muon(params, { updateScale: 'match-rms-adamw' });
  const sync = settle(params['layers.0.weight']);
  muon.stepSync();
  sync();
  const torch = startTorchMuon({ python, shapes, threads, device });
  try {
    const info = await torch.ready;
    const oursMs = [];
    const torchMs = [];
    for (let i = 0; i < steps; i++) {
      oursMs.push((await timed(async () => muon.stepSync(), sync)).seconds * 1e3);
      torchMs.push(await torch.step());
    }
    const ratio = median(oursMs) / median(torchMs);
    return { status: 'passed', matrices: shapes.length, steps, oursMs: median(oursMs), torchMs: median(torchMs), torch: info.torch, ratio, target: '≤ 0.6', targetMet: ratio <= 0.6 };
  } finally {
    torch.close();
  }
}

/** Tokens/s of one training step (forward, loss, backward, Muon) of ours and of transformers. */
async function trainThroughput(config, { python, device, batch, seqLen, steps, precision }) {
  const { CausalLM, Muon, tensor } = lib();
  const ids = tokenBatch(batch, seqLen, config.vocab_size);
  const model = CausalLM.fromConfig(config, { seed: 0, device });
  const optimizer = new Muon(model.namedParameters({ expertStacks: true }), { lr: 1e-3, weightDecay: 0.1, momentum: 0.95, nesterov: true, nsSteps: 5, updateScale: 'match-rms-adamw' });
  const input = tensor(ids, { dtype: 'int64', device });
  const sync = settle(model.namedParameters().values().next().value);
  const step = async () => {
    const metrics = await model.trainStep(input, { labels: input, precision, routerBiasUpdateRate: 0, auxLossAlpha: 0 });
    await optimizer.step();
    return metrics.loss;
  };
  await step();
  const times = [];
  for (let i = 0; i < steps; i++) times.push((await timed(step, sync)).seconds);
  const theirs = runOracle(python, oracleFiles.trainStepBench, { config, ids, steps, warmup: 1, optimizer: true, device, precision }, 600_000);
  const tokens = batch * seqLen;
  const ours = tokens / Math.min(...times);
  const transformers = tokens / theirs.times[0];
  return { model, optimizer, sync, figures: { batch, seqLen, precision, oursTokensPerSecond: ours, transformersTokensPerSecond: transformers, ratio: ours / transformers, transformersPeakBytes: theirs.peakBytes } };
}

/** bench:train's configs, fp32, batch 8 × 256 (target ≥ 1.5×). */
async function trainBenchConfigs({ python, device }) {
  const workload = onCpu(device) ? { batch: 1, seqLen: 32, steps: 1 } : { batch: 8, seqLen: 256, steps: 5 };
  const results = {};
  for (const name of ['deepseek_v3', 'qwen2']) {
    const { model, figures } = await trainThroughput(configs[name], { python, device, precision: 'fp32', ...workload });
    model.dispose();
    results[name] = { ...figures, targetMet: figures.ratio >= 1.5 };
  }
  return { status: 'passed', target: '≥ 1.5', ...results, targetMet: Object.values(results).every((r) => r.targetMet) };
}

/**
 * Moonlight's width (its config cut to 2 layers, full vocabulary), bf16-mixed, batch 8 × 2048, ours vs
 * transformers; and Newton–Schulz's share of our step (the Muon paper finds 1–3 %), from the Muon step timed
 * alone with 5 and with 1 Newton–Schulz iterations: NS ≈ (t5 − t1) · 5/4.
 */
async function trainMoonlightWidth({ python, device }) {
  const { Muon } = lib();
  const config = onCpu(device) ? configs.deepseek_v3 : runOracle(python, oracleFiles.gpuCheck, { action: 'moonlight_config', layers: 2 });
  const workload = onCpu(device) ? { batch: 1, seqLen: 64, steps: 1 } : { batch: 8, seqLen: 2048, steps: 3 };
  const { model, optimizer, sync, figures } = await trainThroughput(config, { python, device, precision: 'bf16-mixed', ...workload });
  const stepSeconds = (workload.batch * workload.seqLen) / figures.oursTokensPerSecond;
  const oneIteration = new Muon(model.namedParameters({ expertStacks: true }), { lr: 1e-3, nsSteps: 1, updateScale: 'match-rms-adamw' });
  const optimizerSeconds = async (opt) => {
    await opt.step();
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push((await timed(() => opt.step(), sync)).seconds);
    return Math.min(...runs);
  };
  const five = await optimizerSeconds(optimizer);
  const one = await optimizerSeconds(oneIteration);
  const newtonSchulzSeconds = Math.max(0, five - one) * 5 / 4;
  const parameters = model.numParameters();
  model.dispose();
  return {
    status: 'passed', model: onCpu(device) ? 'bench:train deepseek_v3 (CPU proof)' : 'Moonlight-16B-A3B config, 2 layers', parameters, ...figures,
    ourStepSeconds: stepSeconds, muonStepSeconds: five, newtonSchulzSeconds, newtonSchulzShare: newtonSchulzSeconds / stepSeconds,
    target: '≥ 1.5', targetMet: figures.ratio >= 1.5,
  };
}

/** Greedy decode tokens/s on bench:generate's model, ours vs transformers generate (target ≥ 1.5×). */
async function decodeThroughput({ python, device }) {
  const { CausalLM } = lib();
  const workload = onCpu(device) ? { promptLength: 16, newTokens: 8, batches: [1], repeats: 1 } : { promptLength: 64, newTokens: 128, batches: [1, 4], repeats: 3 };
  const config = configs.deepseek_v3;
  const prompts = Object.fromEntries(workload.batches.map((b) => [String(b), tokenBatch(b, workload.promptLength, config.vocab_size)]));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-check-decode-'));
  try {
    const theirs = runOracle(python, oracleFiles.decodeBench, { config, out_dir: dir, batches: workload.batches, prompts, new: workload.newTokens, threads, repeats: workload.repeats, device });
    const model = (await CausalLM.fromPretrained(dir, { device })).eval();
    const results = {};
    for (const batch of workload.batches) {
      await model.generate(prompts[batch], { maxNewTokens: 4 });
      let best = Infinity;
      for (let run = 0; run < workload.repeats; run++) best = Math.min(best, (await model.generate(prompts[batch], { maxNewTokens: workload.newTokens })).decodeSeconds);
      const decoded = batch * (workload.newTokens - 1);
      const ratio = theirs[batch].decode_seconds / best;
      results[`batch${batch}`] = { oursTokensPerSecond: decoded / best, transformersTokensPerSecond: decoded / theirs[batch].decode_seconds, ratio, targetMet: ratio >= 1.5 };
    }
    model.dispose();
    return { status: 'passed', promptLength: workload.promptLength, newTokens: workload.newTokens, target: '≥ 1.5', ...results, targetMet: Object.values(results).every((r) => r.targetMet) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { muonStep, trainBenchConfigs, trainMoonlightWidth, decodeThroughput };
