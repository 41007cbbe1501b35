'use strict';
// bench:dist — data parallelism on 2 local ranks (gloo on 127.0.0.1), tiny Moonlight-style MoE, 5 steps:
//   optimizer state bytes per rank, 1 rank vs 2 (ZeRO-1 should halve it);
//   bytes each rank sends per step, ZeRO-1 Muon vs ZeRO-1 AdamW, and their ratio (paper: 1–1.25×);
//   step time of ZeRO-1 vs whole-matrix Muon.
// Needs dist/ and the addon (npm run build:all). Children: test/helpers/dist-child.js.
const { spawn } = require('child_process');
const net = require('net');
const path = require('path');

const child = path.join(__dirname, '..', 'test', 'helpers', 'dist-child.js');
const config = {
  architectures: ['DeepseekV3ForCausalLM'], model_type: 'deepseek_v3', vocab_size: 2048, hidden_size: 256,
  num_hidden_layers: 4, first_k_dense_replace: 1, intermediate_size: 512, moe_intermediate_size: 128,
  n_routed_experts: 8, num_experts_per_tok: 2, n_shared_experts: 1, num_attention_heads: 4, num_key_value_heads: 4,
  q_lora_rank: null, kv_lora_rank: 64, qk_nope_head_dim: 32, qk_rope_head_dim: 16, v_head_dim: 32,
  topk_method: 'noaux_tc', scoring_func: 'sigmoid', n_group: 1, topk_group: 1, norm_topk_prob: true,
  routed_scaling_factor: 2.446, rope_theta: 50000.0, max_position_embeddings: 256, rms_norm_eps: 1e-5,
  tie_word_embeddings: false, hidden_act: 'silu', moe_layer_freq: 1, aux_loss_alpha: 0.001, seq_aux: true,
  num_nextn_predict_layers: 0, bos_token_id: 1, eos_token_id: 2,
};
const base = { task: 'train', config, steps: 5, globalBatch: 4, seqLen: 64, nsDtype: 'bfloat16', timeoutMs: 120000 };

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function runRank(job) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child], { env: { ...process.env, MOONLIGHT_DIST_JOB: JSON.stringify(job) } });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk) => (stdout += chunk));
    proc.stderr.on('data', (chunk) => (stderr += chunk));
    proc.once('exit', () => {
      const report = JSON.parse(stdout.trim().split('\n').pop() || '{"ok":false}');
      if (!report.ok) reject(new Error(`rank ${job.rank ?? 0}: ${report.message ?? stderr}`));
      else resolve(report);
    });
  });
}

async function world(job) {
  const port = await freePort();
  return Promise.all([0, 1].map((rank) => runRank({ ...job, rank, worldSize: 2, port })));
}

// Median of the steps after the first (which includes allocation and warm-up).
const medianMs = (report) => {
  const times = report.stepMs.slice(1).sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
};
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(3)} MiB`;

async function main() {
  const rows = [];
  for (const optimizer of ['muon', 'adamw']) {
    const single = await runRank({ ...base, optimizer, mode: null });
    const zero1 = await world({ ...base, optimizer, mode: 'zero1' });
    rows.push({ optimizer, single, zero1 });
    console.log(`${optimizer} state bytes/rank: 1 rank ${mib(single.stateBytes)}, ZeRO-1 2 ranks ` +
      `${zero1.map((r) => mib(r.stateBytes)).join(' / ')} (${zero1.map((r) => ((100 * r.stateBytes) / single.stateBytes).toFixed(2) + ' %').join(' / ')})`);
  }
  const [muon, adamw] = rows;
  const muonSent = muon.zero1[0].bytesSentPerStep;
  const adamwSent = adamw.zero1[0].bytesSentPerStep;
  console.log(`bytes sent per step per rank, ZeRO-1: Muon ${mib(muonSent)}, AdamW ${mib(adamwSent)}, ratio ${(muonSent / adamwSent).toFixed(3)}× (paper: 1–1.25×)`);
  const whole = await world({ ...base, optimizer: 'muon', mode: 'whole-matrix' });
  console.log(`whole-matrix Muon: state/rank ${whole.map((r) => mib(r.stateBytes)).join(' / ')}, sent/step ${mib(whole[0].bytesSentPerStep)}`);
  console.log(`Muon step time (median of steps 2–${base.steps}): 1 rank ${medianMs(muon.single).toFixed(1)} ms, ` +
    `ZeRO-1 ${medianMs(muon.zero1[0]).toFixed(1)} ms, whole-matrix ${medianMs(whole[0]).toFixed(1)} ms (2 ranks, each B/2)`);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
