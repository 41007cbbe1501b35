'use strict';
// The GPU check's parts, in the order they run: the most valuable first (a run cut short by the machine's time
// limit still returns them), correctness before benchmarks. Each runs in its own process under its time limit
// (scripts/gpu-check/check.js) and returns { status: 'passed' | 'failed', ...figures }. The limits are sized
// for an H200 so that the build (≤ 4 min) and every check fit in 8 minutes; on the CPU (the proof run) each
// limit is multiplied by MOONLIGHT_GPU_CHECK_CPU_SLOWDOWN (default 10).
const models = require('./checks-models');
const training = require('./checks-training');
const benchmarks = require('./checks-benchmarks');

/** [name, part, limit in seconds on the GPU, run(context)]; context: { python, device }. */
const CHECK_LIST = [
  ['forward-backward-deepseek-v3-fp32', 'correctness', 25, (c) => models.forwardBackward('deepseek_v3', 'fp32', c)],
  ['forward-backward-qwen2-fp32', 'correctness', 20, (c) => models.forwardBackward('qwen2', 'fp32', c)],
  ['forward-backward-deepseek-v3-bf16-mixed', 'correctness', 20, (c) => models.forwardBackward('deepseek_v3', 'bf16-mixed', c)],
  ['muon-step-vs-torch', 'correctness', 20, (c) => training.optimizerStep('muon', c)],
  ['adamw-step-vs-torch', 'correctness', 20, (c) => training.optimizerStep('adamw', c)],
  ['greedy-generation', 'correctness', 25, (c) => models.greedyGeneration(c)],
  ['zero1-process-group-nccl', 'correctness', 20, (c) => training.zero1ProcessGroup(c)],
  ['pretrained-folder-on-device', 'correctness', 60, (c) => models.pretrainedOnDevice(c)],
  ['lora-step', 'correctness', 15, (c) => training.loraStep(c)],
  ['qk-clip', 'correctness', 15, (c) => training.qkClip(c)],
  ['forward-backward-qwen2-bf16-mixed', 'correctness', 20, (c) => models.forwardBackward('qwen2', 'bf16-mixed', c)],
  ['bench-muon-step', 'benchmark', 20, (c) => benchmarks.muonStep(c)],
  ['bench-train-moonlight-width', 'benchmark', 60, (c) => benchmarks.trainMoonlightWidth(c)],
  ['bench-train-configs', 'benchmark', 40, (c) => benchmarks.trainBenchConfigs(c)],
  ['bench-decode', 'benchmark', 40, (c) => benchmarks.decodeThroughput(c)],
];

const CHECKS = Object.fromEntries(CHECK_LIST.map(([name, part, limitSeconds, run]) => [name, { part, limitSeconds, run }]));

module.exports = { CHECKS };
