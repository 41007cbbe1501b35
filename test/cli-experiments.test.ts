/**
 * The experiment commands end to end (compiled dist/): `moonlight scaling --preset ci` (the cpu-small
 * pipeline at a size CI affords: lr grid, 4 sizes × both optimizers, fits, ratio, JSON + SVG/PNG),
 * `moonlight compare` (two configurations, three charts) and `moonlight analyze` on their checkpoints.
 * The report's fits and ratio are recomputed here from the runs' own metrics.jsonl with the tested fitter.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { computeRatioAtLoss, fitPowerLawWithOffset } from '../src/experiments/power_law_fit';

jest.setTimeout(600_000);

const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-experiments-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function moonlight(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 580_000, env: { ...process.env, MOONLIGHT_CACHE_DIR: path.join(scratch, 'cache') } });
}

function lastEval(runDir: string): { flops: number; valLoss: number } {
  const evals = fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === 'eval');
  return evals[evals.length - 1];
}

test('moonlight scaling --preset ci: grid, 4 sizes × {Muon, AdamW}, fits and ratio from the runs; report and plot written', () => {
  const out = path.join(scratch, 'scaling');
  const run = moonlight('scaling', '--preset', 'ci', '--out', out);
  expect(run.stderr).not.toMatch(/Error/);
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(/compute ratio Muon\/AdamW at equal loss: /);
  const report = JSON.parse(fs.readFileSync(path.join(out, 'scaling.json'), 'utf8'));
  expect(report.lrGrid.map((g: { lr: number }) => g.lr)).toEqual([3e-3, 1e-2]);
  const bestLr = report.lrGrid.reduce((a: { lr: number; finalValLoss: number }, b: { lr: number; finalValLoss: number }) => (b.finalValLoss < a.finalValLoss ? b : a)).lr;
  expect(report.lr).toBe(bestLr);
  expect(report.runs).toHaveLength(8);
  for (const optimizer of ['muon', 'adamw']) {
    const runs = report.runs.filter((r: { optimizer: string }) => r.optimizer === optimizer);
    expect(runs.map((r: { size: string }) => r.size)).toEqual(['h16', 'h24', 'h32', 'h40']);
    for (const r of runs) expect(r.lr).toBe(bestLr);
    // Refit from the metrics files the runs wrote.
    const points = runs.map((r: { folder: string }) => {
      const e = lastEval(r.folder);
      return { flops: e.flops, loss: e.valLoss };
    });
    const fit = fitPowerLawWithOffset(points);
    expect(report.fits[optimizer].b).toBeCloseTo(fit.b, 8);
    expect(report.fits[optimizer].c).toBeCloseTo(fit.c, 8);
    // Bigger models cost more FLOPs per token and get more tokens: the compute axis is increasing.
    const flops = points.map((p: { flops: number }) => p.flops);
    expect([...flops].sort((a, b) => a - b)).toEqual(flops);
  }
  for (const { loss, ratio } of report.computeRatios) {
    const expected = computeRatioAtLoss(report.fits.muon, report.fits.adamw, loss);
    if (expected === null) expect(ratio).toBeNull();
    else expect(ratio).toBeCloseTo(expected, 8);
  }
  expect(fs.readFileSync(path.join(out, 'scaling.svg'), 'utf8')).toContain('<svg');
  expect(fs.readFileSync(path.join(out, 'scaling.png')).subarray(1, 4).toString()).toBe('PNG');

  // A second invocation reuses the finished runs instead of training again.
  const again = moonlight('scaling', '--preset', 'ci', '--out', out);
  expect(again.status).toBe(0);
  expect(JSON.parse(fs.readFileSync(path.join(out, 'scaling.json'), 'utf8')).fits).toEqual(report.fits);
});

test('moonlight compare: two configurations, loss / weight RMS / update RMS charts; analyze compares their checkpoints', () => {
  const out = path.join(scratch, 'compare');
  const run = moonlight('compare', '--config', 'name=wd,wd=0.1', '--config', 'name=nowd,wd=0', '--hidden_size', '32', '--num_layers', '2',
    '--steps', '12', '--batch_size', '4', '--seq_len', '32', '--lr', '5e-3', '--diagnostics_every', '3', '--out', out);
  expect(run.stderr).not.toMatch(/Error/);
  expect(run.status).toBe(0);
  for (const chart of ['compare-loss', 'compare-weight-rms', 'compare-update-rms']) {
    expect(fs.readFileSync(path.join(out, `${chart}.svg`), 'utf8')).toContain('<svg');
  }
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'compare.json'), 'utf8'));
  expect(summary.series.map((s: { name: string }) => s.name)).toEqual(['wd', 'nowd']);
  for (const s of summary.series) {
    expect(s.loss).toHaveLength(12);
    expect(s.updateRms.map((p: number[]) => p[0])).toEqual([1, 4, 7, 10, 12]);
  }
  // Same seed and data: after 12 steps the run with weight decay has the smaller weights.
  const lastWeightRms = (s: { weightRms: number[][] }) => s.weightRms[s.weightRms.length - 1][1];
  expect(lastWeightRms(summary.series[0])).toBeLessThan(lastWeightRms(summary.series[1]));

  const analysis = path.join(out, 'analysis');
  const analyze = moonlight('analyze', path.join(out, 'runs', 'wd'), path.join(out, 'runs', 'nowd'), '--out', analysis);
  expect(analyze.status).toBe(0);
  expect(analyze.stdout).toMatch(/matrix type\s+wd\s+nowd/);
  expect(analyze.stdout).toMatch(/\nq_proj\s+0\.\d{4}\s+0\.\d{4}/);
  expect(fs.readFileSync(path.join(analysis, 'svd-entropy.svg'), 'utf8')).toContain('<svg');
  const bad = moonlight('analyze', path.join(out, 'missing'));
  expect(bad.status).not.toBe(0);
  expect(bad.stderr).toMatch(/CheckpointError: .*missing: no such checkpoint/);
});
