'use strict';
// The one-screen summary of a GPU-check report (gpu-check.json): the machine, then one line per check with
// its status, time and headline figures.
const headline = {
  'greedy-generation': (r) => `${r.newTokens} tokens, single ${r.singleEqual ? 'equal' : 'DIFFER'}, left-padded batch ${r.batchEqual ? 'equal' : 'DIFFER'}`,
  'zero1-process-group-nccl': (r) => `backend ${r.backend}, world size ${r.worldSize}, state vs CPU ±${r.stateMaxRelativeDifference?.toPrecision(2)} (≤ 1e-4)`,
  'pretrained-folder-on-device': (r) => ['float32', 'bfloat16'].map((d) => r[d] && `${d} load ${r[d].loadSeconds.toFixed(1)} s, logits ±${r[d].logitsMaxAbsError.toPrecision(2)} (≤ ${r[d].bound.toPrecision(2)})`).filter(Boolean).join('; '),
  'bench-muon-step': (r) => `ours ${r.oursMs?.toFixed(2)} ms, torch ${r.torchMs?.toFixed(2)} ms, ratio ${r.ratio?.toFixed(2)} (≤ 0.6)`,
  'bench-train-configs': (r) => ['deepseek_v3', 'qwen2'].map((n) => r[n] && `${n} ${r[n].ratio.toFixed(2)}×`).filter(Boolean).join(', ') + ' (≥ 1.5)',
  'bench-train-moonlight-width': (r) => r.ratio === undefined ? '' : `${r.oursTokensPerSecond.toFixed(0)} vs ${r.transformersTokensPerSecond.toFixed(0)} tok/s, ${r.ratio.toFixed(2)}× (≥ 1.5); NS ${(100 * r.newtonSchulzShare).toFixed(1)} % of the step`,
  'bench-decode': (r) => Object.entries(r).filter(([k]) => k.startsWith('batch')).map(([k, v]) => `${k} ${v.ratio.toFixed(2)}×`).join(', ') + ' (≥ 1.5)',
};

function figuresOf(check) {
  if (check.status === 'failed' && check.error) return check.error.trim().split('\n').slice(-1)[0].slice(0, 100);
  if (headline[check.name]) return headline[check.name](check);
  const numbers = Object.entries(check).filter(([k, v]) => typeof v === 'number' && !['seconds', 'limitSeconds'].includes(k));
  return numbers.slice(0, 3).map(([k, v]) => `${k} ${Number(v.toPrecision(3))}`).join(', ');
}

function summaryLines(report) {
  const lines = [
    `moonlight-torch GPU check — ${report.gpu ?? report.torch?.deviceName ?? 'no GPU'} (device ${report.device})`,
    `  Node ${report.node}, torch ${report.torch?.version}${report.torch?.cuda ? ` (CUDA ${report.torch.cuda})` : ''}, transformers ${report.torch?.transformers}` +
      (report.build ? `; addon built in ${report.build.seconds.toFixed(0)} s, version check bypassed` : ''),
  ];
  for (const check of report.checks) {
    const target = check.targetMet === undefined ? '' : check.targetMet ? ' target met' : ' TARGET MISSED';
    lines.push(`  ${check.status.padEnd(8)} ${check.name.padEnd(40)} ${check.seconds.toFixed(0).padStart(4)} s${target}  ${figuresOf(check)}`);
  }
  lines.push(`  ${report.summary}`);
  return lines;
}

module.exports = { summaryLines };
