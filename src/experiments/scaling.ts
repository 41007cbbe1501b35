/**
 * `moonlight scaling`: the paper's Fig. 3 at small scale, with seeds and an interval. For each model size of
 * a preset, Muon and AdamW train on the same data for the size's token budget, once per seed (a seed fixes
 * the weights and the data order). The lrs come from grids at the smallest size (seed 0; optionally at the
 * largest too); the curves are
 *   adamw            AdamW at its best lr;
 *   muon-adamw-lr    Muon at AdamW's lr: the paper's recipe (Muon's update RMS is matched to AdamW's, so it
 *                    reuses AdamW's hyper-parameters);
 *   muon-tuned       Muon at the best lr of its own grid (--lr_search both);
 *   muon-rms-from-adamw  Muon at AdamW's lr with its update rescaled per matrix type to the update RMS the
 *                    same-size, same-seed AdamW run measured (--muon_rms_from_adamw; update_rms_match.ts).
 * Each Muon curve is compared with AdamW's: power laws with offset fitted to the per-size mean losses, the
 * compute ratio at equal loss and its 90 % bootstrap interval over seeds (compute_ratio.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../errors';
import { writeFileAtomically } from '../io/atomic_file';
import { bootstrapComputeRatio, ComputeRatioInterval, ComputeRatioSummary, seedMeanComputeRatio } from './compute_ratio';
import { renderScalingChart } from './scaling_chart';
import { LrSearch, LrSearchAt, ScalingPreset, scalingPreset } from './scaling_presets';
import { activatedNonEmbeddingParameters, runName, ScalingOptimizer, ScalingRunResult, ScalingRunSpec, tokenBudget, trainScalingRun } from './scaling_run';
import { muonScalesFromAdamw, secondHalfUpdateRms } from './update_rms_match';

export type { ScalingOptimizer, ScalingRunResult } from './scaling_run';

export interface ScalingOptions {
  preset?: string | ScalingPreset;
  /** Output folder: runs/, scaling.json, scaling.svg / .png. Default scaling-<preset>. */
  out?: string;
  dataset?: string;
  /** Overrides of the preset's settings. */
  seeds?: number;
  lrSearch?: LrSearch;
  lrSearchAt?: LrSearchAt;
  muonRmsFromAdamw?: boolean;
  /** Called once per run as it starts and ends (a reused run too). */
  onRun?: (event: { phase: 'start' | 'end'; run: string; index: number; total: number; finalValLoss?: number }) => void;
}

export type CurveName = 'adamw' | 'muon-adamw-lr' | 'muon-tuned' | 'muon-rms-from-adamw';

/** One size of one curve: the mean and spread of the final validation loss over seeds. */
export interface CurvePoint {
  size: string;
  flops: number;
  tokens: number;
  activatedNonEmbeddingParameters: number;
  lr: number;
  lossBySeed: number[];
  meanLoss: number;
  /** Sample standard deviation over seeds (0 with one seed): the error bar of the plot. */
  sdLoss: number;
  minLoss: number;
  maxLoss: number;
  /** muon-rms-from-adamw only, per matrix type, means over seeds: AdamW's RMS, Muon's at AdamW's lr, what the rescaled run reached. */
  updateRms?: Record<string, { adamw: number; muonAtAdamwLr: number; reached: number }>;
}

export interface ScalingCurve {
  name: CurveName;
  optimizer: ScalingOptimizer;
  /** How this curve's lr was chosen, in words. */
  lrProcedure: string;
  points: CurvePoint[];
}

export interface ScalingComparison extends ComputeRatioSummary {
  muonCurve: CurveName;
  /** The 90 % interval of `ratio` over seeds; null with one seed. */
  interval: ComputeRatioInterval | null;
}

export interface LrGridResult {
  optimizer: ScalingOptimizer;
  size: string;
  seed: number;
  results: Array<{ lr: number; finalValLoss: number }>;
  best: number;
  /** The best lr is the grid's smallest or largest: the optimum may lie outside the grid. */
  bestAtGridEdge: boolean;
}

export interface ScalingReport {
  preset: string;
  dataset: string;
  seeds: number[];
  tokenRule: string;
  lrSearch: LrSearch;
  lrSearchAt: LrSearchAt;
  lrGrids: LrGridResult[];
  weightDecay: number;
  curves: ScalingCurve[];
  comparisons: ScalingComparison[];
  runs: ScalingRunResult[];
  elapsedSeconds: number;
}

const mean = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0) / values.length;
const sampleSd = (values: readonly number[]): number =>
  values.length < 2 ? 0 : Math.sqrt(values.reduce((s, v) => s + (v - mean(values)) ** 2, 0) / (values.length - 1));

/**
 * The lr of a size from the grids' best lrs: with one searched size, that lr; with the smallest and the
 * largest, geometric interpolation in the activated non-embedding parameters P (a power law lr ∝ P^α
 * through both ends): log lr = log lr₀ + (log P − log P₀)/(log P₁ − log P₀) · (log lr₁ − log lr₀).
 */
function lrAt(searched: Array<{ parameters: number; lr: number }>, parameters: number): number {
  if (searched.length === 1) return searched[0].lr;
  const [low, high] = searched;
  const t = Math.log(parameters / low.parameters) / Math.log(high.parameters / low.parameters);
  return Math.exp(Math.log(low.lr) + t * Math.log(high.lr / low.lr));
}

export async function runScaling(options: ScalingOptions = {}): Promise<ScalingReport> {
  const presetName = typeof options.preset === 'string' || options.preset === undefined ? options.preset ?? 'cpu-small' : 'custom';
  const base = typeof options.preset === 'object' ? options.preset : scalingPreset(presetName);
  const preset: ScalingPreset = {
    ...base, seeds: options.seeds ?? base.seeds, lrSearch: options.lrSearch ?? base.lrSearch,
    lrSearchAt: options.lrSearchAt ?? base.lrSearchAt, muonRmsFromAdamw: options.muonRmsFromAdamw ?? base.muonRmsFromAdamw,
  };
  // The update-RMS match reads the runs' diagnostics: measure them if the preset does not.
  if (preset.muonRmsFromAdamw && preset.diagnosticsEvery === 0) preset.diagnosticsEvery = 10;
  const out = path.resolve(options.out ?? `scaling-${presetName}`);
  const runsFolder = path.join(out, 'runs');
  const dataset = options.dataset ?? 'moby-dick';
  const started = Date.now();
  const sizes = preset.sizes;
  const parameters = sizes.map((size) => activatedNonEmbeddingParameters(preset, size));
  const seeds = Array.from({ length: preset.seeds }, (_, i) => i);
  const searchedSizes = preset.lrSearchAt === 'smallest' ? [0] : [0, sizes.length - 1];
  const searchedOptimizers: ScalingOptimizer[] = preset.lrSearch === 'both' ? ['adamw', 'muon'] : ['adamw'];
  const curveNames: CurveName[] = [
    'adamw', 'muon-adamw-lr', ...(preset.lrSearch === 'both' ? ['muon-tuned' as const] : []),
    ...(preset.muonRmsFromAdamw ? ['muon-rms-from-adamw' as const] : []),
  ];
  const gridRuns = searchedSizes.length * searchedOptimizers.reduce((n, o) => n + preset.lrGrids[o].length, 0);
  const total = gridRuns + curveNames.length * sizes.length * seeds.length;
  const runs = new Map<string, ScalingRunResult>();
  let index = 0;
  const train = async (spec: ScalingRunSpec): Promise<ScalingRunResult> => {
    index += 1;
    options.onRun?.({ phase: 'start', run: runName(spec), index, total });
    const result = await trainScalingRun(preset, runsFolder, dataset, spec);
    runs.set(result.folder, result);
    options.onRun?.({ phase: 'end', run: result.name, index, total, finalValLoss: result.finalValLoss });
    return result;
  };

  // 1. The lr grids (seed 0) and each optimizer's lr per size.
  const lrGrids: LrGridResult[] = [];
  for (const s of searchedSizes) {
    for (const optimizer of searchedOptimizers) {
      const results: LrGridResult['results'] = [];
      for (const lr of preset.lrGrids[optimizer]) {
        results.push({ lr, finalValLoss: (await train({ optimizer, size: sizes[s], lr, seed: 0 })).finalValLoss });
      }
      const best = results.reduce((a, b) => (b.finalValLoss < a.finalValLoss ? b : a)).lr;
      const lrs = results.map((r) => r.lr);
      const bestAtGridEdge = best === Math.min(...lrs) || best === Math.max(...lrs);
      lrGrids.push({ optimizer, size: sizes[s].name, seed: 0, results, best, bestAtGridEdge });
    }
  }
  const lrOf = (optimizer: ScalingOptimizer, s: number): number =>
    lrAt(lrGrids.filter((g) => g.optimizer === optimizer).map((g) => ({ parameters: parameters[sizes.findIndex((z) => z.name === g.size)], lr: g.best })), parameters[s]);
  const where = preset.lrSearchAt === 'smallest' ? `at ${sizes[0].name}` : `at ${sizes[0].name} and ${sizes[sizes.length - 1].name}, geometric in parameters between`;
  const adamwGrid = `the best of AdamW's grid ${JSON.stringify(preset.lrGrids.adamw)} ${where} (seed 0)`;
  const procedures: Record<CurveName, string> = {
    adamw: adamwGrid,
    'muon-adamw-lr': `AdamW's lr (the paper's recipe): ${adamwGrid}`,
    'muon-tuned': `the best of Muon's own grid ${JSON.stringify(preset.lrGrids.muon)} ${where} (seed 0)`,
    'muon-rms-from-adamw': `AdamW's lr, Muon's update ×k(t) per matrix type, k = AdamW's / Muon's second-half mean update RMS (same size and seed)`,
  };

  // 2. Every curve, seed by seed (an interrupted sweep leaves whole seeds behind).
  const bySeed = new Map<string, ScalingRunResult>(); // `${curve}/${size}/${seed}`
  const rmsBySeed = new Map<string, Record<string, { adamw: number; muonAtAdamwLr: number; reached: number }>>();
  for (const seed of seeds) {
    for (const [s, size] of sizes.entries()) {
      const adamw = await train({ optimizer: 'adamw', size, lr: lrOf('adamw', s), seed });
      const muonAtAdamwLr = await train({ optimizer: 'muon', size, lr: lrOf('adamw', s), seed });
      bySeed.set(`adamw/${size.name}/${seed}`, adamw);
      bySeed.set(`muon-adamw-lr/${size.name}/${seed}`, muonAtAdamwLr);
      if (curveNames.includes('muon-tuned')) bySeed.set(`muon-tuned/${size.name}/${seed}`, await train({ optimizer: 'muon', size, lr: lrOf('muon', s), seed }));
      if (curveNames.includes('muon-rms-from-adamw')) {
        const adamwRms = secondHalfUpdateRms(adamw.folder);
        const muonRms = secondHalfUpdateRms(muonAtAdamwLr.folder);
        const scales = muonScalesFromAdamw(adamwRms, muonRms);
        if (Object.keys(scales).length === 0) throw new ConfigError(`${adamw.folder} and ${muonAtAdamwLr.folder} hold no update RMS diagnostics to match`);
        const rescaled = await train({ optimizer: 'muon', size, lr: lrOf('adamw', s), seed, updateScaleByMatrixType: scales });
        bySeed.set(`muon-rms-from-adamw/${size.name}/${seed}`, rescaled);
        const reached = secondHalfUpdateRms(rescaled.folder);
        rmsBySeed.set(`${size.name}/${seed}`, Object.fromEntries(Object.keys(scales).map((type) =>
          [type, { adamw: adamwRms[type], muonAtAdamwLr: muonRms[type], reached: scales[type] * (reached[type] ?? Number.NaN) }])));
      }
    }
  }

  // 3. Per curve and size: mean and spread over seeds; each Muon curve against AdamW's.
  const curves: ScalingCurve[] = curveNames.map((name) => ({
    name, optimizer: name === 'adamw' ? 'adamw' : 'muon', lrProcedure: procedures[name],
    points: sizes.map((size, s) => {
      const seedRuns = seeds.map((seed) => bySeed.get(`${name}/${size.name}/${seed}`)!);
      const losses = seedRuns.map((r) => r.finalValLoss);
      const point: CurvePoint = {
        size: size.name, flops: mean(seedRuns.map((r) => r.flops)), tokens: seedRuns[0].tokens, activatedNonEmbeddingParameters: parameters[s],
        lr: seedRuns[0].lr, lossBySeed: losses, meanLoss: mean(losses), sdLoss: sampleSd(losses), minLoss: Math.min(...losses), maxLoss: Math.max(...losses),
      };
      if (name === 'muon-rms-from-adamw') point.updateRms = meanOverSeeds(seeds.map((seed) => rmsBySeed.get(`${size.name}/${seed}`)!));
      return point;
    }),
  }));
  const seeded = (curve: ScalingCurve) => curve.points.map((p) => ({ flops: p.flops, lossBySeed: p.lossBySeed }));
  const adamwCurve = seeded(curves[0]);
  const comparisons: ScalingComparison[] = curves.slice(1).map((curve) => ({
    muonCurve: curve.name,
    ...seedMeanComputeRatio(seeded(curve), adamwCurve),
    interval: bootstrapComputeRatio(seeded(curve), adamwCurve, { resamples: preset.bootstrapResamples }),
  }));
  const tokenRule = preset.tokensPerParameter !== undefined
    ? `tokens = ${preset.tokensPerParameter} × activated non-embedding parameters, rounded to whole steps of ${preset.batchSize} × ${preset.seqLen}`
    : `tokens set per size: ${sizes.map((size) => `${size.name} ${tokenBudget(preset, size)}`).join(', ')}`;
  const report: ScalingReport = {
    preset: presetName, dataset, seeds, tokenRule, lrSearch: preset.lrSearch, lrSearchAt: preset.lrSearchAt, lrGrids,
    weightDecay: preset.weightDecay, curves, comparisons, runs: [...runs.values()], elapsedSeconds: (Date.now() - started) / 1000,
  };
  const svg = renderScalingChart(report);
  fs.mkdirSync(out, { recursive: true });
  writeFileAtomically(path.join(out, 'scaling.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileAtomically(path.join(out, 'scaling.svg'), svg);
  const { svgToPng } = await import('../plot/png');
  writeFileAtomically(path.join(out, 'scaling.png'), svgToPng(svg));
  return report;
}

function meanOverSeeds(perSeed: Array<Record<string, { adamw: number; muonAtAdamwLr: number; reached: number }>>): CurvePoint['updateRms'] {
  const types = Object.keys(perSeed[0] ?? {});
  return Object.fromEntries(types.map((type) => [type, {
    adamw: mean(perSeed.map((r) => r[type]?.adamw ?? Number.NaN)),
    muonAtAdamwLr: mean(perSeed.map((r) => r[type]?.muonAtAdamwLr ?? Number.NaN)),
    reached: mean(perSeed.map((r) => r[type]?.reached ?? Number.NaN)),
  }]));
}
