'use strict';
// npm run bench:load — loading a Moonlight-width checkpoint: ours (CausalLM.fromPretrained) versus transformers'
// AutoModelForCausalLM.from_pretrained, in the same run.
//
// The checkpoint: Moonlight-16B-A3B-Instruct's own config.json cut to N layers (BENCH_LOAD_LAYERS, default 2,4:
// hidden 2048, one dense layer of 11264, then MoE layers of 64 routed experts × 1408, top-6, 2 shared; MLA with
// kv_lora_rank 512; vocab 163840), random weights written by transformers as bfloat16 shards of ≤ 1 GB with an
// index, per-expert tensor names as published, non-zero routing biases (scripts/oracle/moonlight_width_reference.py),
// cached in .cache/bench-load/ between runs.
//
// Both sides are measured the same way, each load in a fresh process: the page cache is warmed by reading every
// shard first; the order alternates between repeats (BENCH_LOAD_REPEATS, default 2); the load counts as done only
// after one forward pass of 8 tokens, so lazily mapped weights cannot hide work; memory is the peak RSS above the
// RSS before the load (VmHWM after resetting it through /proc/self/clear_refs), over the loaded weights' bytes.
// Ours also reports the largest event-loop stall during its load (a 5 ms interval timer's worst lateness). Each side has
// its framework loaded before the clock starts (Python imports torch first; ours loads the addon and libtorch first,
// and prints how long that took).
// Targets: time ≤ 1.0× transformers for both dtypes; peak RSS above the pre-load RSS ≤ 1.1× the weights' bytes;
// largest stall < 50 ms. Then, per checkpoint, the peak RSS of LoRA + Muon steps on the default bf16 frozen base.
// Prints both sides and the ratios; asserts nothing.
const fs = require('fs');
const path = require('path');
const { root, rssBytes, runChild, childOrMain } = require('./bench-child');

const inputIds = [[1, 17, 42, 255, 3, 100, 77, 500]];

/** The child side: one load of ours, measured as the Python side measures transformers'. */
async function loadOurs(directory, dtype) {
  const lib = require(path.join(root, 'dist'));
  // Load the addon and libtorch first, as the Python side has imported torch before its clock starts: loading
  // libtorch (a synchronous dlopen, once per process) is timed on its own line, not as part of the load.
  const addonStart = performance.now();
  lib.cudaAvailable();
  const addonLoadMs = performance.now() - addonStart;
  let worstStallMs = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    worstStallMs = Math.max(worstStallMs, now - last - 5);
    last = now;
  }, 5);
  fs.writeFileSync('/proc/self/clear_refs', '5');
  const before = rssBytes('VmRSS');
  const start = performance.now();
  const model = await lib.CausalLM.fromPretrained(directory, { dtype });
  model.eval();
  const ids = lib.tensor(inputIds, { dtype: 'int64' });
  const { logits } = await model.forward(ids);
  const seconds = (performance.now() - start) / 1000;
  clearInterval(timer);
  const peak = rssBytes('VmHWM');
  let weightBytes = 0;
  for (const tensor of model.stateDict().values()) {
    weightBytes += tensor.numel * (tensor.dtype === 'bfloat16' || tensor.dtype === 'float16' ? 2 : 4);
    tensor.dispose();
  }
  const row = logits.toNumbers().slice((inputIds[0].length - 1) * logits.shape[2]);
  return {
    seconds, peakAboveBeforeBytes: peak - before, rssBeforeBytes: before, peakBytes: peak, weightBytes,
    worstStallMs, addonLoadMs, logitsFirst: row.slice(0, 4),
  };
}

/**
 * The child side of the real-width fine-tuning figure: LoRA rank 8 on every linear layer of the model as
 * fromPretrained gives it by default (the checkpoint's bf16, frozen; fp32 adapters), Muon, 3 steps of batch
 * 2 × 256 tokens; the peak RSS of the whole process and above the RSS before the load.
 */
async function loraStepOurs(directory) {
  const lib = require(path.join(root, 'dist'));
  fs.writeFileSync('/proc/self/clear_refs', '5');
  const before = rssBytes('VmRSS');
  const model = await lib.CausalLM.fromPretrained(directory);
  model.attachLora({ targetModules: 'all-linear', rank: 8, alpha: 16 });
  const optimizer = new lib.Muon(model.namedParameters({ expertStacks: true }), { lr: 1e-3 });
  const vocab = model.config.vocabSize;
  const ids = Array.from({ length: 2 }, (_, b) => Array.from({ length: 256 }, (_, t) => (b * 7919 + t * 104729) % vocab));
  const losses = [];
  for (let step = 0; step < 3; step++) {
    losses.push((await model.trainStepAccumulated([{ inputIds: ids, labels: ids }], optimizer, { routerBiasUpdateRate: 0 })).lmLoss);
  }
  return { baseDtype: model.dtype, peakBytes: rssBytes('VmHWM'), peakAboveBeforeBytes: rssBytes('VmHWM') - before, losses };
}

function main() {
  const python = require('./oracle-python').oraclePython();
  const oracle = path.join(__dirname, 'oracle', 'moonlight_width_reference.py');
  const layerCounts = (process.env.BENCH_LOAD_LAYERS || '2,4').split(',').map(Number);
  const dtypes = (process.env.BENCH_LOAD_DTYPES || 'bfloat16,float32').split(',');
  const repeats = Number(process.env.BENCH_LOAD_REPEATS || 2);
  const cacheDir = path.join(root, '.cache', 'bench-load');
  const gib = 1024 ** 3;
  console.log('bench:load — Moonlight-width checkpoint, load + one forward of 8 tokens, each load in a fresh process');
  for (const layers of layerCounts) {
    const directory = path.join(cacheDir, `moonlight-width-${layers}-layers`);
    const made = runChild(python, [oracle], JSON.stringify({ action: 'make', dir: directory, layers, seed: 1, vocab_size: null }));
    const shards = fs.readdirSync(directory).filter((f) => f.endsWith('.safetensors'));
    for (const shard of shards) fs.readFileSync(path.join(directory, shard)); // warm the page cache
    console.log(`\n${layers} layers (${directory}${made.cached ? ', cached' : ''}), ${shards.length} shard(s)`);
    for (const dtype of dtypes) {
      const ours = [];
      const theirs = [];
      for (let repeat = 0; repeat < repeats; repeat++) {
        const runOurs = () => ours.push(runChild(process.execPath, [__filename, '--child', directory, dtype], ''));
        const runTheirs = () => theirs.push(runChild(python, [oracle], JSON.stringify({ action: 'load', dir: directory, dtype, input_ids: inputIds })));
        if (repeat % 2 === 0) { runOurs(); runTheirs(); } else { runTheirs(); runOurs(); }
      }
      const best = (runs) => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
      const worstMemory = (runs) => Math.max(...runs.map((r) => r.peakAboveBeforeBytes / r.weightBytes));
      const o = best(ours);
      const t = best(theirs);
      const fmt = (runs) => runs.map((r) => `${r.seconds.toFixed(1)} s`).join(', ');
      console.log(`  ${dtype}: weights ${(o.weightBytes / gib).toFixed(2)} GiB`);
      console.log(`    time        ours ${fmt(ours)} | transformers ${fmt(theirs)} | best-of ratio ${(o.seconds / t.seconds).toFixed(2)}x (target <= 1.0x)`);
      console.log(`    peak RSS above pre-load / weights: ours ${worstMemory(ours).toFixed(2)}x | transformers ${worstMemory(theirs).toFixed(2)}x (target <= 1.1x)`);
      console.log(`    peak RSS, whole process: ours ${(Math.max(...ours.map((r) => r.peakBytes)) / gib).toFixed(2)} GiB | transformers ${(Math.max(...theirs.map((r) => r.peakBytes)) / gib).toFixed(2)} GiB`);
      console.log(`    largest event-loop stall during our load: ${Math.max(...ours.map((r) => r.worstStallMs)).toFixed(0)} ms (target < 50 ms); ` +
        `loading the addon and libtorch before it, once per process, on the JS thread: ${Math.max(...ours.map((r) => r.addonLoadMs)).toFixed(0)} ms`);
      console.log(`    last-token logits[0..3]: ours ${o.logitsFirst.map((v) => v.toFixed(4)).join(' ')} | transformers ${t.logitsFirst.map((v) => v.toFixed(4)).join(' ')}`);
    }
    const lora = runChild(process.execPath, [__filename, '--lora-step', directory], '');
    console.log(`  LoRA r8 all-linear + Muon, 3 steps of 2 x 256 tokens on the default (${lora.baseDtype}) frozen base: ` +
      `peak RSS ${(lora.peakBytes / gib).toFixed(2)} GiB (${(lora.peakAboveBeforeBytes / gib).toFixed(2)} GiB above the pre-load RSS); ` +
      `losses ${lora.losses.map((l) => l.toFixed(3)).join(', ')}`);
  }
}

childOrMain({ '--child': () => loadOurs(process.argv[3], process.argv[4]), '--lora-step': () => loraStepOurs(process.argv[3]) }, main);
