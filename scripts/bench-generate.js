'use strict';
// npm run bench:generate — greedy decoding tokens/s of ours (native KV-cache loop, MLA latent cache) versus
// transformers `generate` (PyTorch eager, its DynamicCache) on the same small DeepseekV3 weights and prompt:
// prompt 64 tokens, 128 new tokens, batch 1 and 4, one run each side. Decode tokens/s = batch × (new tokens − 1)
// / decode time (the prefill and first token excluded on both sides). Each side runs BENCH_REPEATS (3) times and
// keeps its fastest run (the machine may be shared). Prints numbers and the ratio; asserts nothing.
//
// Threads: transformers runs on OMP_NUM_THREADS (default: all cores), as a user would run it. Ours runs as a user
// gets it by default: generate() picks its intra-op threads by model size (one for this small model, whose
// decode step is a few hundred microsecond-sized ops; src/infer/generate.ts `threads`); BENCH_OUR_THREADS
// overrides that. Each side prints what it used. Compare OMP_NUM_THREADS=1 as well.
// Options (environment): BENCH_PROMPT (64), BENCH_NEW (128), BENCH_BATCHES (1,4), BENCH_REPEATS (3),
// BENCH_OUR_THREADS (0: ours chooses).
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const lib = require(path.join(root, 'dist'));
const python = require('./oracle-python').oraclePython();
const promptLength = Number(process.env.BENCH_PROMPT || 64);
const newTokens = Number(process.env.BENCH_NEW || 128);
const batches = (process.env.BENCH_BATCHES || '1,4').split(',').map(Number);
const repeats = Number(process.env.BENCH_REPEATS || 3);
const ourThreads = Number(process.env.BENCH_OUR_THREADS || 0);

// bench-train.js's DeepseekV3 config (MLA without q-LoRA, 8 routed experts).
const config = require('./bench-configs').deepseek_v3;

function prompts(batch) {
  return Array.from({ length: batch }, (_, b) => Array.from({ length: promptLength }, (_, t) => (b * 7919 + t * 104729 + 13) % config.vocab_size));
}


async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moonlight-bench-generate-'));
  const threads = Number(process.env.OMP_NUM_THREADS || os.cpus().length);
  const promptSets = Object.fromEntries(batches.map((b) => [String(b), prompts(b)]));
  const py = spawnSync(python, [path.join(root, 'scripts', 'oracle', 'decode_bench.py')], {
    input: JSON.stringify({ config, out_dir: dir, batches, prompts: promptSets, new: newTokens, threads, repeats }),
    encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PYTHONWARNINGS: 'ignore' },
  });
  if (py.status !== 0) throw new Error(`transformers side failed:\n${py.stderr}`);
  const theirs = JSON.parse(py.stdout.trim().split('\n').pop());

  const model = (await lib.CausalLM.fromPretrained(dir)).eval();
  console.log(`bench:generate  DeepseekV3 ${config.num_hidden_layers} layers, hidden ${config.hidden_size}, prompt ${promptLength}, ${newTokens} new tokens, greedy, fp32`);
  for (const batch of batches) {
    await model.generate(promptSets[String(batch)], { maxNewTokens: 4, threads: ourThreads });  // warm-up
    let result = null;
    for (let run = 0; run < repeats; run++) {
      const attempt = await model.generate(promptSets[String(batch)], { maxNewTokens: newTokens, threads: ourThreads });
      if (result === null || attempt.decodeSeconds < result.decodeSeconds) result = attempt;
    }
    const decoded = batch * (newTokens - 1);
    const ours = decoded / result.decodeSeconds;
    const reference = decoded / theirs[String(batch)].decode_seconds;
    const cacheKiB = result.cacheBytes / 1024;
    console.log(`batch ${batch}: ours ${ours.toFixed(1)} tok/s, transformers ${reference.toFixed(1)} tok/s, ratio ${(ours / reference).toFixed(2)}x` +
      ` (target >= 1.5x); threads: ours ${result.threads}, transformers ${theirs.threads}; MLA cache ${cacheKiB.toFixed(1)} KiB for ${result.cacheCapacity} positions`);
  }
  model.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
