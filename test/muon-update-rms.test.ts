/**
 * Lemma 1 of "Muon is Scalable for LLM Training": with s = 0.2·√max(A, B) the update s·O of a full-rank
 * A×B matrix has RMS ≈ 0.2, AdamW's typical update RMS. One step from W = 0 with lr 1, no weight decay and
 * no momentum leaves W = −s·O, whose RMS we measure.
 *
 * The Lemma assumes the exact polar factor. Polar Express approximates it closely on every shape. The
 * Keller Jordan coefficients (the default) leave singular values spread over ≈[0.7, 1.2]: close enough on
 * LLM-sized matrices, but on (64, 256), a small and less well-conditioned Gaussian matrix, its RMS is 0.172
 * (torch.optim.Muon's bf16 NS gives the same 0.1715), so that one case is checked with Polar Express only.
 */
import { manualSeed, Muon, MuonOptions, randn, zeros } from '../src';

function updateRms(rows: number, cols: number, options: MuonOptions): number {
  manualSeed(rows * 7 + cols);
  const weight = zeros([rows, cols]);
  const optimizer = new Muon({ 'layer.weight': weight }, { lr: 1, weightDecay: 0, momentum: 0, ...options });
  weight.grad = randn([rows, cols]);
  optimizer.stepSync();
  return weight.pow(2).mean().sqrt().item();
}

describe('Muon update RMS (match-rms-adamw)', () => {
  test.each([
    [1024, 1024],
    [1024, 4096],
    [896, 4864],
  ])("shape (%i, %i), 'keller-jordan' (default): RMS of s·O is 0.2 ± 0.02", (rows, cols) => {
    expect(Math.abs(updateRms(rows, cols, {}) - 0.2)).toBeLessThanOrEqual(0.02);
  });

  test.each([
    [1024, 1024],
    [1024, 4096],
    [896, 4864],
    [64, 256],
  ])("shape (%i, %i), 'polar-express': RMS of s·O is 0.2 ± 0.02", (rows, cols) => {
    expect(Math.abs(updateRms(rows, cols, { nsCoefficients: 'polar-express' }) - 0.2)).toBeLessThanOrEqual(0.02);
  });
});
