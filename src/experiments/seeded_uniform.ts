/**
 * mulberry32 (Tommy Ettinger's 32-bit generator): uniform numbers in [0, 1) from a seed, so that a bootstrap
 * interval (or a randomised test) comes out the same on every run.
 */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
