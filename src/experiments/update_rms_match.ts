/**
 * `--muon_rms_from_adamw`: the paper reuses AdamW's lr for Muon on the premise that Muon's update RMS
 * matches AdamW's (its 0.2·√max(A, B) scale, Lemma 1). This tests the premise directly: per hidden matrix
 * type t, AdamW's mean update RMS r_A(t) over the second half of a run and Muon's r_M(t) over the second half
 * of the same-size, same-seed, same-lr run give a factor k(t) = r_A(t) / r_M(t) on Muon's update (Trainer
 * updateScaleByMatrixType), so the rescaled Muon run steps as far per matrix type as AdamW did.
 *
 * Why a measured r_M rather than Lemma 1's 0.2: on small models Muon's update RMS sits at 0.14–0.19, below
 * 0.2 (rank-deficient momentum, Newton–Schulz singular values below 1), so k = r_A / 0.2 would under-step.
 * The rescaled run's own diagnostics measure what it reached: k(t) × its recorded r_M(t) (the recorded RMS is
 * before the lr, so the factor is not in it).
 */
import { readDiagnostics } from '../plot/diagnostics_chart';

/** Types Muon does not take (embeddings, LM head, norm gains, biases): AdamW updates them in both runs. */
export const notHiddenMatrix = (type: string): boolean =>
  type === 'embed_tokens' || type === 'lm_head' || type === 'norms' || type.endsWith('.bias');

/** Per hidden matrix type, the mean update RMS over the diagnostic steps in the second half of the run. */
export function secondHalfUpdateRms(folder: string): Record<string, number> {
  const records = readDiagnostics(folder).filter((r) => r.updateRms !== undefined);
  const lastStep = Math.max(0, ...records.map((r) => r.step));
  const sums = new Map<string, { total: number; count: number }>();
  for (const record of records) {
    if (record.step <= lastStep / 2) continue;
    for (const [type, rms] of Object.entries(record.updateRms ?? {})) {
      if (notHiddenMatrix(type) || !Number.isFinite(rms)) continue;
      const sum = sums.get(type) ?? { total: 0, count: 0 };
      sum.total += rms;
      sum.count += 1;
      sums.set(type, sum);
    }
  }
  return Object.fromEntries([...sums.entries()].map(([type, { total, count }]) => [type, total / count]));
}

/** k(t) = r_A(t) / r_M(t) for every hidden matrix type both runs measured. */
export function muonScalesFromAdamw(adamwRms: Record<string, number>, muonRms: Record<string, number>): Record<string, number> {
  const scales: Record<string, number> = {};
  for (const [type, target] of Object.entries(adamwRms)) {
    const own = muonRms[type];
    if (own !== undefined && own > 0 && target > 0) scales[type] = target / own;
  }
  return scales;
}
