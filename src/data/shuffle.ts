/**
 * Seeded shuffling that gives the same order on every machine and Node version: integer-only arithmetic
 * (Math.imul, >>>, exact doubles below 2^53), no Math.random, no platform hash.
 *
 * Generator: xoshiro128** 1.1 (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c), implemented
 * here. Its 128-bit state for (seed, epoch) comes from SplitMix32 (below) started at a hash of the two values.
 * Permutation: Fisher–Yates from the last index down, each draw unbiased by rejection.
 */
import { ArgumentError } from '../errors';

const TWO_POW_32 = 4294967296;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

// MurmurHash3's 32-bit finaliser: every input bit affects every output bit.
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export class Xoshiro128StarStar {
  readonly #s: Uint32Array;

  /** From an explicit state (four uint32, not all zero): for tests against the reference vectors. */
  constructor(state: readonly [number, number, number, number]) {
    this.#s = Uint32Array.from(state);
    if (this.#s.every((word) => word === 0)) throw new ArgumentError('xoshiro128** state must not be all zero');
  }

  /** The generator for (seed, stream): non-negative safe integers, e.g. a run's seed and an epoch. */
  static fromSeed(seed: number, stream: number): Xoshiro128StarStar {
    checkSeedPart(seed, 'seed');
    checkSeedPart(stream, 'epoch');
    let hash = 0x6d6f6f6e; // "moon"
    for (const word of [seed % TWO_POW_32, Math.floor(seed / TWO_POW_32), stream % TWO_POW_32, Math.floor(stream / TWO_POW_32)]) {
      hash = mix32((hash ^ word) + 0x9e3779b9);
    }
    // SplitMix32: a Weyl sequence through the finaliser, so the four words are distinct and well mixed.
    const state: [number, number, number, number] = [0, 0, 0, 0];
    for (let i = 0; i < 4; i++) {
      hash = (hash + 0x9e3779b9) >>> 0;
      state[i] = mix32(hash);
    }
    if (state.every((word) => word === 0)) state[0] = 1;
    return new Xoshiro128StarStar(state);
  }

  /** The next uint32. */
  next(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform integer in [0, bound), bound ≤ 2^32, without modulo bias. */
  below(bound: number): number {
    const limit = TWO_POW_32 - (TWO_POW_32 % bound);
    let draw = this.next();
    while (draw >= limit) draw = this.next();
    return draw % bound;
  }
}

function checkSeedPart(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new ArgumentError(`${name} must be a non-negative safe integer, got ${value}`);
}

/** A permutation of 0..length-1 determined by (seed, epoch) alone. */
export function seededPermutation(length: number, seed: number, epoch: number): Uint32Array {
  if (!Number.isInteger(length) || length < 0 || length > TWO_POW_32) {
    throw new ArgumentError(`permutation length must be an integer in [0, 2^32], got ${length}`);
  }
  const order = new Uint32Array(length);
  for (let i = 0; i < length; i++) order[i] = i;
  const random = Xoshiro128StarStar.fromSeed(seed, epoch);
  for (let i = length - 1; i > 0; i--) {
    const j = random.below(i + 1);
    const held = order[i];
    order[i] = order[j];
    order[j] = held;
  }
  return order;
}
