'use strict';
// The GPU check's model correctness checks: ours on the device against transformers on the same device.
// Each returns { status: 'passed' | 'failed', ...figures }; they use the compiled library (dist/) only.
const fs = require('fs');
const os = require('os');
const path = require('path');
const configs = require('../bench-configs');
const { oracleFiles, runOracle, maxAbsDifference, root } = require('./oracles');

const lib = () => require(path.join(root, 'dist'));
const tempDir = (label) => fs.mkdtempSync(path.join(os.tmpdir(), `gpu-check-${label}-`));

// bf16 keeps 8 significant bits: two correct bf16 computations differ by a few units of 2^-8 of the scale
// (test/moonlight-width.test.ts uses the same bound).
const bf16Tolerance = 2 ** -5;
// A gradient passes through more bf16 roundings than the loss (forward, then backward through each layer):
// on CPU the worst one (a router gate's) is 0.04 of its scale between two correct implementations.
const bf16GradientTolerance = 2 ** -4;

/**
 * Forward and backward of a tiny model, ours vs transformers on the same device. fp32: logits 1e-4 abs, loss
 * 1e-5, every gradient 1e-4 relative to its largest entry. bf16-mixed (fp32 weights, bf16 autocast on both
 * sides): loss within 2^-5 of itself, every gradient within 2^-4 of its scale.
 */
async function forwardBackward(modelType, precision, { python, device }) {
  const { CausalLM, tensor, loadSafetensors } = lib();
  const dir = tempDir(modelType);
  try {
    const inputIds = [[1, 5, 9, 200, 31, 7, 64, 2], [3, 3, 8, 100, 250, 17, 42, 11]];
    const reference = runOracle(python, oracleFiles.gpuCheck, {
      action: 'forward_backward', config: configs[modelType], seed: 7, out_dir: dir, device, input_ids: inputIds, labels: inputIds, precision,
    });
    const model = await CausalLM.fromPretrained(path.join(dir, 'model'), { dtype: 'float32', device });
    const ids = tensor(inputIds, { dtype: 'int64', device });
    const figures = { precision };
    let passed = true;
    if (precision === 'fp32') {
      const { logits, loss } = await model.forward(ids, { labels: ids });
      const expected = (await loadSafetensors(path.join(dir, 'outputs.safetensors'))).logits;
      figures.logitsMaxAbsError = maxAbsDifference(logits.to({ device: 'cpu' }).toNumbers(), expected.toNumbers()).difference;
      figures.lossError = Math.abs(loss.item() - reference.loss);
      passed = figures.logitsMaxAbsError <= 1e-4 && figures.lossError <= 1e-5;
    }
    const metrics = await model.trainStep(ids, { labels: ids, precision, auxLossAlpha: 0, routerBiasUpdateRate: 0 });
    if (precision !== 'fp32') {
      figures.lossError = Math.abs(metrics.loss - reference.loss);
      passed = figures.lossError <= Math.abs(reference.loss) * bf16Tolerance;
    }
    figures.gradientMaxRelativeError = 0;
    const gradients = model.namedGradients();
    for (const [name, expected] of Object.entries(await loadSafetensors(path.join(dir, 'grads.safetensors')))) {
      const grad = gradients.get(name);
      if (!grad) throw new Error(`no gradient for ${name}`);
      const { difference, scale } = maxAbsDifference(grad.to({ device: 'cpu', dtype: 'float32' }).toNumbers(), expected.toNumbers());
      const relative = difference / Math.max(scale, 1e-12);
      if (relative > figures.gradientMaxRelativeError) [figures.gradientMaxRelativeError, figures.worstGradient] = [relative, name];
    }
    passed &&= figures.gradientMaxRelativeError <= (precision === 'fp32' ? 1e-4 : bf16GradientTolerance);
    model.dispose();
    return { status: passed ? 'passed' : 'failed', ...figures };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Greedy decoding on the device, one prompt and a left-padded batch: tokens equal transformers' generate. */
async function greedyGeneration({ python, device }) {
  const { CausalLM, tensor } = lib();
  const dir = tempDir('generate');
  try {
    const prompt = [5, 17, 200, 3, 99, 42, 7];
    const batch = [[11, 12, 13, 14, 15, 16], [300, 301, 302]];
    const newTokens = 24;
    const [expected] = runOracle(python, oracleFiles.generate, {
      cases: [{ config: configs.deepseek_v3, seed: 101, out_dir: dir, prompt, batch, max_new_tokens: newTokens, device }],
    }).results;
    const model = (await CausalLM.fromPretrained(dir, { dtype: 'float32', device })).eval();
    const single = await model.generate(tensor([prompt], { dtype: 'int64', device }), { maxNewTokens: newTokens });
    const width = Math.max(...batch.map((row) => row.length));
    const padded = batch.map((row) => [...Array(width - row.length).fill(0), ...row]);
    const mask = batch.map((row) => [...Array(width - row.length).fill(0), ...Array(row.length).fill(1)]);
    const batched = await model.generate(tensor(padded, { dtype: 'int64', device }), { maxNewTokens: newTokens, attentionMask: tensor(mask, { dtype: 'int64', device }) });
    model.dispose();
    const singleEqual = JSON.stringify(single.tokens[0]) === JSON.stringify(expected.single.tokens);
    const batchEqual = JSON.stringify(batched.tokens) === JSON.stringify(expected.batch.tokens);
    return { status: singleEqual && batchEqual ? 'passed' : 'failed', newTokens, singleEqual, batchEqual, ours: single.tokens[0], transformers: expected.single.tokens };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Moonlight-16B-A3B's config cut to 2 layers and a 2048-token vocabulary (0.68 B parameters, bf16 shards), the
// checkpoint test/moonlight-width.test.ts uses, made here by scripts/oracle/moonlight_width_reference.py.
const moonlightWidthRequest = { action: 'make', layers: 2, seed: 3, vocab_size: 2048 };
const moonlightWidthDir = path.join(root, '.cache', 'test-moonlight-width');

/**
 * A Hugging Face folder streamed from disk straight onto the device (fromPretrained(dir, {device})): logits
 * equal transformers' on the device, fp32 to 1e-4; the checkpoint's bf16 within bf16 tolerance with the same
 * greedy tokens.
 */
async function pretrainedOnDevice({ python, device }) {
  const { CausalLM, tensor } = lib();
  runOracle(python, oracleFiles.moonlightWidth, { ...moonlightWidthRequest, dir: moonlightWidthDir }, 900_000);
  const inputIds = [[1, 17, 42, 255, 3, 100, 77, 500, 1999, 12, 640, 7]];
  const newTokens = 6;
  const figures = {};
  let passed = true;
  for (const dtype of ['float32', 'bfloat16']) {
    const theirs = runOracle(python, oracleFiles.moonlightWidth, { action: 'logits', dir: moonlightWidthDir, dtype, input_ids: inputIds, new_tokens: newTokens, device }, 900_000);
    const started = Date.now();
    const model = (await CausalLM.fromPretrained(moonlightWidthDir, { dtype, device })).eval();
    const loadSeconds = (Date.now() - started) / 1000;
    const ids = tensor(inputIds, { dtype: 'int64', device });
    const { logits } = await model.forward(ids);
    const generated = await model.generate(ids, { maxNewTokens: newTokens });
    const { difference, scale } = maxAbsDifference(logits.to({ device: 'cpu', dtype: 'float32' }).toNumbers(), theirs.logits.flat(2));
    const sameTokens = JSON.stringify(generated.tokens) === JSON.stringify(theirs.greedy);
    model.dispose();
    const bound = dtype === 'float32' ? 1e-4 : scale * bf16Tolerance;
    figures[dtype] = { loadSeconds, logitsMaxAbsError: difference, logitScale: scale, bound, sameGreedyTokens: sameTokens };
    passed &&= difference <= bound && sameTokens;
  }
  return { status: passed ? 'passed' : 'failed', checkpoint: 'Moonlight-16B-A3B config, 2 layers, vocab 2048', ...figures };
}

module.exports = { forwardBackward, greedyGeneration, pretrainedOnDevice, moonlightWidthRequest, moonlightWidthDir };
