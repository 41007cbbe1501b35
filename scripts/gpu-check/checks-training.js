'use strict';
// The GPU check's training correctness checks: optimizer steps against torch.optim on the same device; a LoRA
// step, QK-Clip and a 1-rank ZeRO-1 process group on the device against the same work on the CPU (which the
// jest suite holds equal to PEFT, transformers and the gloo reference). Each returns { status, ...figures }.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { oracleFiles, runOracle, maxAbsDifference, root } = require('./oracles');
// bench:train's DeepSeek-V3 model: MLA (what QK-Clip acts on), routed and shared experts.
const modelConfig = require('../bench-configs').deepseek_v3;

const lib = () => require(path.join(root, 'dist'));

/**
 * Our optimizer on device tensors against test/oracles/optimizer_reference.py's torch.optim on the device,
 * 5 steps on the same parameters and gradients (drawn on the CPU from one seed, as the jest tests draw them).
 */
function optimizerProblem(optimizerName, device) {
  const { manualSeed, randn, Muon, AdamW } = lib();
  const muon = optimizerName === 'muon';
  // Muon: LLM-sized matrices (two share a batched Newton–Schulz, one is tall); lr 1 so float32 rounding of W
  // cannot hide a difference in the update. AdamW: a matrix and a bias.
  const shapes = muon
    ? { 'layers.0.q': [512, 1024], 'layers.1.q': [512, 1024], 'layers.0.down': [1024, 384], 'layers.0.o': [768, 768] }
    : { 'layers.0.w': [256, 384], 'layers.0.bias': [384] };
  const options = muon
    ? { lr: 1, weightDecay: 0.1, momentum: 0.95, nesterov: true, nsSteps: 5, coefficients: [[3.4445, -4.775, 2.0315]], eps: 1e-7, updateScale: 'match-rms-adamw' }
    : { lr: 1e-2, weightDecay: 0.1, betas: [0.9, 0.95], eps: 1e-8 };
  const problem = { seed: muon ? 21 : 31, names: Object.keys(shapes), shapes, gradScale: {}, steps: 5 };
  manualSeed(problem.seed);
  const initial = Object.fromEntries(problem.names.map((n) => [n, randn(shapes[n])]));
  const grads = Array.from({ length: problem.steps }, () => Object.fromEntries(problem.names.map((n) => [n, randn(shapes[n]).to({ device })])));
  const checksum = problem.names.reduce((sum, n) => sum + initial[n].to({ dtype: 'float64' }).sum().item(), 0);
  const params = Object.fromEntries(problem.names.map((n) => [n, initial[n].to({ device })]));
  const optimizer = muon
    ? new Muon(params, { lr: 1, weightDecay: 0.1, nsDtype: 'bfloat16' }) // the defaults are torch.optim.Muon's
    : new AdamW(params, options);
  return { problem, options: { ...options, nsDtype: 'bfloat16', nsNormScale: 1 }, checksum, params, grads, optimizer };
}

async function optimizerStep(optimizerName, { python, device }) {
  const { problem, options, checksum, params, grads, optimizer } = optimizerProblem(optimizerName, device);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-check-optim-'));
  try {
    const oursFile = path.join(dir, 'ours.f32');
    for (const stepGrads of grads) {
      for (const n of problem.names) params[n].grad = stepGrads[n];
      optimizer.stepSync();
      for (const n of problem.names) {
        const values = params[n].to({ device: 'cpu' }).data();
        fs.appendFileSync(oursFile, Buffer.from(values.buffer, values.byteOffset, values.byteLength));
      }
    }
    const mode = optimizerName === 'muon' ? 'torch-muon' : 'torch-adamw';
    const comparison = runOracle(python, oracleFiles.optimizer, { ...problem, mode, checksum, oursFile, options, device });
    const worst = Object.values(comparison).reduce((acc, c) => ({ maxDiff: Math.max(acc.maxDiff, c.maxDiff), maxRef: Math.max(acc.maxRef, c.maxRef) }), { maxDiff: 0, maxRef: 0 });
    // Muon compares the orthogonalised update O (bf16 Newton–Schulz on both sides): 1e-2, as the jest test;
    // AdamW compares W itself in fp32: 1e-6.
    const bound = optimizerName === 'muon' ? 1e-2 : 1e-6;
    return { status: worst.maxDiff <= bound && worst.maxRef > 0 ? 'passed' : 'failed', against: `torch.optim.${optimizerName === 'muon' ? 'Muon' : 'AdamW'} on ${device}`, maxDifference: worst.maxDiff, referenceScale: worst.maxRef, bound };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const trainIds = Array.from({ length: 2 }, (_, b) => Array.from({ length: 24 }, (_, t) => (b * 131 + t * 37 + 5) % 500));

/** Largest difference between two models' named tensors, relative to the reference's largest entry. */
function stateDifference(model, reference) {
  const theirs = reference.stateDict();
  let worst = 0;
  for (const [name, tensor] of model.stateDict()) {
    const { difference, scale } = maxAbsDifference(tensor.to({ device: 'cpu', dtype: 'float32' }).toNumbers(), theirs.get(name).to({ dtype: 'float32' }).toNumbers());
    worst = Math.max(worst, difference / Math.max(scale, 1e-12));
  }
  return worst;
}

/** The same seeded model on the device and on the CPU, after `run(model)` on each. */
async function onDeviceAndCpu(device, run) {
  const { CausalLM } = lib();
  const models = [CausalLM.fromConfig(modelConfig, { seed: 5, device }), CausalLM.fromConfig(modelConfig, { seed: 5, device: 'cpu' })];
  const results = [];
  for (const model of models) results.push(await run(model, model === models[0] ? device : 'cpu'));
  return { models, results };
}

/** Three Muon steps of LoRA adapters (all linear layers, rank 4) on the device equal the same on the CPU. */
async function loraStep({ device }) {
  const { Muon, tensor } = lib();
  const { models, results } = await onDeviceAndCpu(device, async (model, where) => {
    model.attachLora({ rank: 4, alpha: 8, dropout: 0, targetModules: 'all-linear', seed: 3 });
    const optimizer = new Muon(model.namedParameters({ expertStacks: true }), { lr: 0.02, weightDecay: 0 });
    const ids = tensor(trainIds, { dtype: 'int64', device: where });
    let loss = 0;
    for (let step = 0; step < 3; step++) loss = (await model.trainStepAccumulated([{ inputIds: ids, labels: ids }], optimizer, { routerBiasUpdateRate: 0 })).lmLoss;
    return loss;
  });
  const relative = stateDifference(models[0], models[1]);
  models.forEach((model) => model.dispose());
  const lossDifference = Math.abs(results[0] - results[1]);
  return { status: relative <= 1e-4 && lossDifference <= 1e-4 ? 'passed' : 'failed', lossOnDevice: results[0], lossOnCpu: results[1], lossDifference, stateMaxRelativeDifference: relative };
}

/**
 * QK-Clip on the device: the per-head max attention logits equal the CPU's, one clip (threshold at the median
 * head) rescales the same heads, and afterwards layer 0's clipped heads sit at the threshold.
 */
async function qkClip({ device }) {
  const { Muon, tensor } = lib();
  let threshold = null;
  const { models, results } = await onDeviceAndCpu(device, async (model, where) => {
    const ids = tensor(trainIds, { dtype: 'int64', device: where });
    const optimizer = new Muon(model.namedParameters({ expertStacks: true }), { lr: 0, weightDecay: 0 });
    const measure = async (options) => model.trainStepAccumulated([{ inputIds: ids, labels: ids }], optimizer, { routerBiasUpdateRate: 0, ...options });
    const before = (await measure({ recordAttentionLogits: true })).maxAttentionLogits;
    if (threshold === null) threshold = [...before.flat()].sort((a, b) => a - b)[Math.floor(before.flat().length / 2)];
    const clipped = (await measure({ qkClip: { threshold, alpha: 0.5 } })).qkClippedHeads;
    const after = (await measure({ recordAttentionLogits: true })).maxAttentionLogits;
    return { before, clipped, after };
  });
  const [ours, cpu] = results;
  const logitsDifference = maxAbsDifference(ours.before.flat(), cpu.before.flat()).difference;
  const layer0AtThreshold = ours.before[0].every((s, h) => Math.abs(ours.after[0][h] - (s > threshold ? threshold : s)) <= 1e-3 * Math.max(1, s));
  const relative = stateDifference(models[0], models[1]);
  models.forEach((model) => model.dispose());
  const passed = logitsDifference <= 1e-3 && ours.clipped === cpu.clipped && ours.clipped > 0 && layer0AtThreshold && relative <= 1e-4;
  return { status: passed ? 'passed' : 'failed', threshold, clippedHeads: ours.clipped, clippedHeadsOnCpu: cpu.clipped, maxLogitDifference: logitsDifference, layer0AtThreshold, stateMaxRelativeDifference: relative };
}

/**
 * A 1-rank process group ('auto': gloo for CPU tensors, NCCL for CUDA tensors in the CUDA flavour): three
 * ZeRO-1 Muon steps of the model on the device (over NCCL) equal the same steps on the CPU (over gloo).
 */
async function zero1ProcessGroup({ device }) {
  const { Muon, distributed, tensor } = lib();
  const port = 20000 + Math.floor(Math.random() * 20000);
  await distributed.init({ rank: 0, worldSize: 1, masterPort: port, timeoutMs: 60_000 });
  const backend = distributed.backend;
  const { models, results } = await onDeviceAndCpu(device, async (model, where) => {
    const optimizer = new Muon(model.namedParameters({ expertStacks: true }), { lr: 0.02, weightDecay: 0.1, nsDtype: 'float32', distributed: { mode: 'zero1' } });
    const ids = tensor(trainIds, { dtype: 'int64', device: where });
    const losses = [];
    for (let step = 0; step < 3; step++) losses.push((await model.trainStepAccumulated([{ inputIds: ids, labels: ids }], optimizer, { routerBiasUpdateRate: 0, maxGradNorm: 1 })).loss);
    return losses;
  });
  const relative = stateDifference(models[0], models[1]);
  models.forEach((model) => model.dispose());
  distributed.destroy();
  const ncclWhereExpected = device === 'cpu' || backend.includes('nccl');
  return { status: relative <= 1e-4 && ncclWhereExpected ? 'passed' : 'failed', backend, worldSize: 1, lossesOnDevice: results[0], lossesOnCpu: results[1], stateMaxRelativeDifference: relative };
}

module.exports = { optimizerStep, loraStep, qkClip, zero1ProcessGroup };
