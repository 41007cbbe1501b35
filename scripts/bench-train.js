'use strict';
// npm run bench:train — one training step (forward + loss + backward + optimizer) of ours versus
// transformers (PyTorch eager) on the same configs, in one run: tokens/s of both, their ratio, and MFU
// against the fp32 and bf16 matmul ceilings measured here and now (same machine, same thread count).
// Prints numbers; asserts nothing.
//
// Optimizers (lr 1e-3, weight decay 0.1, Muon momentum 0.95 Nesterov, 5 Newton-Schulz steps, update
// scale match_rms_adamw; AdamW betas 0.9/0.95 for embeddings, lm_head, norms and biases):
//   ours: moonlight Muon over every matrix, routed-expert stacks [E, out, in] included (batched);
//   transformers: torch.optim.Muon(adjust_lr_fn='match_rms_adamw') over the 2-D hidden matrices + AdamW over
//   the rest — torch's Muon takes only 2-D parameters, so transformers' fused 3-D expert stacks go to AdamW
//   there (less work than Muon: the comparison favours the Python side).
// BENCH_OPTIMIZER=0 times forward + backward only on both sides.
//
// The machine may be shared, so the two sides alternate for BENCH_ROUNDS rounds and each side's step time
// is the fastest timed step over all rounds (the least disturbed); the median is printed beside it.
//
// Options (environment): BENCH_STEPS (timed steps, default 5), BENCH_WARMUP (default 1), BENCH_BATCH (8),
// BENCH_SEQ (256), BENCH_MODELS (comma list: deepseek_v3,qwen2).
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const lib = require(path.join(root, 'dist'));

const steps = Number(process.env.BENCH_STEPS || 5);
const rounds = Number(process.env.BENCH_ROUNDS || 2);
const withOptimizer = process.env.BENCH_OPTIMIZER !== '0';
const warmup = Number(process.env.BENCH_WARMUP || 1);
const batch = Number(process.env.BENCH_BATCH || 8);
const seqLen = Number(process.env.BENCH_SEQ || 256);
const python = require('./oracle-python').oraclePython();

// The benchmark configs.
const configs = require('./bench-configs');
const selected = (process.env.BENCH_MODELS || 'deepseek_v3,qwen2').split(',');

// Deterministic token ids shared by both sides.
function tokenBatch(vocab) {
  return Array.from({ length: batch }, (_, b) =>
    Array.from({ length: seqLen }, (_, t) => (b * 7919 + t * 104729 + 13) % vocab));
}

// Model FLOPs of one fwd+bwd step (the optimizer's Newton-Schulz work is not counted): 6 · (activated
// matmul parameters, lm_head included, embedding lookup excluded) · tokens, plus attention's score and value matmuls 3 · 2 · B · H · T² · (d_qk + d_v) (no causal
// discount, as is customary for MFU).
function stepFlops(model) {
  const c = model.config;
  const tokens = batch * seqLen;
  const matmulParams = model.numParameters({ excludeEmbeddings: true, activatedOnly: true }) + c.vocabSize * c.hiddenSize;
  const dqk = c.mla ? c.mla.qkNopeHeadDim + c.mla.qkRopeHeadDim : c.headDim;
  const dv = c.mla ? c.mla.vHeadDim : c.headDim;
  const attention = 6 * batch * c.numAttentionHeads * seqLen * seqLen * (dqk + dv) * c.numHiddenLayers;
  return 6 * matmulParams * tokens + attention;
}

function matmulCeiling(dtype) {
  const n = 1024;
  const a = lib.randn([n, n], { dtype });
  const b = lib.randn([n, n], { dtype });
  a.matmul(b).dispose();
  // The fastest of several products: the least disturbed by other work on a shared machine.
  let best = Infinity;
  for (let i = 0; i < 15; i++) {
    const start = process.hrtime.bigint();
    a.matmul(b).dispose();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  return (2 * n ** 3) / best;
}

async function benchOurs(model, optimizer, name) {
  const ids = lib.tensor(tokenBatch(configs[name].vocab_size), { dtype: 'int64' });
  const options = { labels: ids, routerBiasUpdateRate: 0, auxLossAlpha: 0 };
  const step = async () => {
    const metrics = await model.trainStep(ids, options);
    if (optimizer) await optimizer.step();
    return metrics.loss;
  };
  for (let i = 0; i < warmup; i++) await step();
  const times = [];
  let loss = 0;
  for (let i = 0; i < steps; i++) {
    const start = process.hrtime.bigint();
    loss = await step();
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return { times, loss };
}


function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function benchTransformers(name) {
  const result = spawnSync(python, [path.join(root, 'scripts', 'oracle', 'train_step_bench.py')], {
    input: JSON.stringify({ config: configs[name], ids: tokenBatch(configs[name].vocab_size), steps, warmup,
      optimizer: withOptimizer }),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, PYTHONWARNINGS: 'ignore' },
  });
  if (result.status !== 0) return { error: (result.stderr || '').trim().split('\n').slice(-3).join(' | ') };
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

async function main() {
  const tokens = batch * seqLen;
  console.log(`moonlight-torch bench:train — ${withOptimizer ? 'fwd+bwd+optimizer' : 'fwd+bwd'} step, fp32, batch ${batch} × ${seqLen} tokens, ` +
    `best of ${rounds} round(s) × ${steps} timed step(s) (after ${warmup} warm-up each), alternating sides; libtorch ${lib.libtorchVersion}, CPU`);
  console.log(withOptimizer
    ? 'optimizer: ours Muon (all matrices, expert stacks batched) + AdamW; transformers torch.optim.Muon ' +
      '(2-D hidden matrices) + AdamW (the rest, incl. its 3-D expert stacks, which torch Muon rejects)'
    : 'optimizer: none (BENCH_OPTIMIZER=0)');
  const fp32Ceiling = matmulCeiling('float32');
  const bf16Ceiling = matmulCeiling('bfloat16');
  console.log(`matmul ceilings (1024³, best of 15, measured now): fp32 ${(fp32Ceiling / 1e9).toFixed(1)} GFLOP/s, ` +
    `bf16 ${(bf16Ceiling / 1e9).toFixed(1)} GFLOP/s`);
  for (const name of selected) {
    const model = lib.CausalLM.fromConfig(configs[name], { seed: 0 });
    const optimizer = withOptimizer
      ? new lib.Muon(model.namedParameters({ expertStacks: true }), {
          lr: 1e-3, weightDecay: 0.1, momentum: 0.95, nesterov: true, nsSteps: 5, updateScale: 'match-rms-adamw',
        })
      : null;
    const ourTimes = [];
    const theirTimes = [];
    let ourLoss = 0;
    let theirs = {};
    for (let round = 0; round < rounds; round++) {
      const run = await benchOurs(model, optimizer, name);
      ourTimes.push(...run.times);
      ourLoss = run.loss;
      theirs = benchTransformers(name);
      if (theirs.error) break;
      theirTimes.push(...theirs.times);
    }
    const ours = { model, seconds: Math.min(...ourTimes), median: median(ourTimes), loss: ourLoss };
    if (!theirs.error) Object.assign(theirs, { seconds: Math.min(...theirTimes), median: median(theirTimes) });
    const flops = stepFlops(model);
    const ourRate = tokens / ours.seconds;
    console.log(`\n${name}: ${(ours.model.numParameters() / 1e6).toFixed(2)} M parameters ` +
      `(${(ours.model.numParameters({ activatedOnly: true }) / 1e6).toFixed(2)} M activated), ` +
      `${(flops / 1e9).toFixed(1)} GFLOP per step`);
    console.log(`  moonlight-torch: ${ourRate.toFixed(0)} tokens/s (${(ours.seconds * 1000).toFixed(0)} ms/step, ` +
      `median ${(ours.median * 1000).toFixed(0)}, loss ${ours.loss.toFixed(4)}), MFU ${(100 * flops / ours.seconds / fp32Ceiling).toFixed(1)}% of fp32 / ` +
      `${(100 * flops / ours.seconds / bf16Ceiling).toFixed(1)}% of bf16`);
    if (theirs.error) {
      console.log(`  transformers: failed (${theirs.error})`);
    } else {
      const theirRate = tokens / theirs.seconds;
      console.log(`  transformers (${theirs.attn}, ${theirs.threads} threads): ${theirRate.toFixed(0)} tokens/s ` +
        `(${(theirs.seconds * 1000).toFixed(0)} ms/step, median ${(theirs.median * 1000).toFixed(0)}, loss ${theirs.loss.toFixed(4)}), ` +
        `MFU ${(100 * flops / theirs.seconds / fp32Ceiling).toFixed(1)}% of fp32`);
      console.log(`  ratio: ${(ourRate / theirRate).toFixed(2)}× (target ≥ 1.5×)`);
    }
    ours.model.dispose();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
