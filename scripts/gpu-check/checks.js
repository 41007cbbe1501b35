'use strict';
// The GPU check's parts, each a function run in its own process (scripts/gpu-check/check.js gives it a time
// limit): correctness against transformers / torch on the same GPU, then benchmarks with both sides and the
// ratio. Each returns { status: 'passed' | 'failed', ...figures }. They use the compiled library (dist/) only.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..', '..');
const configs = require('../bench-configs');

function runOracle(python, request, timeoutMs = 300_000) {
  const result = spawnSync(python, [path.join(__dirname, 'oracle.py')], {
    input: JSON.stringify(request), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20,
  });
  if (result.status !== 0) throw new Error(`oracle failed: ${(result.stderr || '').slice(-3000)}`);
  return JSON.parse(result.stdout.trim().split('\n').pop());
}

function maxAbs(tensor) {
  return tensor.abs().max().item();
}

/**
 * fp32 forward and backward of a tiny model on the GPU, ours vs transformers on the same GPU: logits (1e-4 abs),
 * loss (1e-5) and every parameter's gradient (1e-4 relative to its largest entry).
 */
async function forwardBackward(modelType, { python, device }) {
  const lib = require(path.join(root, 'dist'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gpu-check-${modelType}-`));
  try {
    const config = configs[modelType];
    const inputIds = [[1, 5, 9, 200, 31, 7, 64, 2], [3, 3, 8, 100, 250, 17, 42, 11]];
    const reference = runOracle(python, { action: 'forward_backward', config, seed: 7, out_dir: dir, device, input_ids: inputIds, labels: inputIds });
    const model = await lib.CausalLM.fromPretrained(path.join(dir, 'model'), { dtype: 'float32', device });
    const ids = lib.tensor(inputIds, { dtype: 'int64', device });
    const { logits, loss } = await model.forward(ids, { labels: ids });
    const expectedLogits = (await lib.loadSafetensors(path.join(dir, 'outputs.safetensors'))).logits;
    const logitsError = maxAbs(logits.to({ device: 'cpu' }).sub(expectedLogits));
    const lossError = Math.abs(loss.item() - reference.loss);
    await model.trainStep(ids, { labels: ids, auxLossAlpha: 0, routerBiasUpdateRate: 0 });
    let gradientError = 0;
    let worst = '';
    const gradients = model.namedGradients();
    for (const [name, expected] of Object.entries(await lib.loadSafetensors(path.join(dir, 'grads.safetensors')))) {
      const grad = gradients.get(name);
      if (!grad) throw new Error(`no gradient for ${name}`);
      const relative = maxAbs(grad.to({ device: 'cpu' }).sub(expected)) / Math.max(maxAbs(expected), 1e-12);
      if (relative > gradientError) [gradientError, worst] = [relative, name];
    }
    model.dispose();
    const passed = logitsError <= 1e-4 && lossError <= 1e-5 && gradientError <= 1e-4;
    return { status: passed ? 'passed' : 'failed', logitsMaxAbsError: logitsError, lossError, gradientMaxRelativeError: gradientError, worstGradient: worst };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** name → { part, run(context) }. Context: { python, device }. */
const CHECKS = {
  'forward-backward-deepseek-v3': { part: 'correctness', run: (context) => forwardBackward('deepseek_v3', context) },
  'forward-backward-qwen2': { part: 'correctness', run: (context) => forwardBackward('qwen2', context) },
};

module.exports = { CHECKS };
