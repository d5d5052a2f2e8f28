/**
 * Seeded pseudo-random generators shared by the demo script, the benchmarks and the randomized
 * tests. Pure: each factory returns a closure over its own state, so the same seed always yields
 * the same sequence of numbers in [0, 1). Not for anything security-relevant.
 */

/** mulberry32: deterministic uniform [0, 1) from a 32-bit seed (any value, including 0). */
export function createMulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * xorshift32: deterministic, fast uniform [0, 1). A seed of 0 (mod 2^32), which would stick at
 * zero, is replaced by 0x9e3779b9.
 */
export function createXorshift32(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}
