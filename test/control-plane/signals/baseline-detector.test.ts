/**
 * The baseline detector on synthetic series: a step, a spike, a slow drift, a seasonal pattern.
 * Noise comes from a seeded generator, so every run sees the same numbers.
 */
import { describe, expect, it } from 'vitest';
import { createBaselineDetector, DetectorOptionsError, type DetectorOptions } from '../../../control-plane/src/signals/baseline-detector.js';
import { createMulberry32 as rng } from '../../../scripts/seeded-random.js';

/** Roughly normal noise (sum of uniforms), sd ≈ `sd`. */
function noise(seed: number, sd: number): () => number {
  const r = rng(seed);
  return () => (r() + r() + r() + r() + r() + r() - 3) * sd * Math.SQRT2;
}

const THRESHOLD = 4;
function run(series: readonly number[], options: DetectorOptions = {}) {
  const d = createBaselineDetector(options);
  let state = d.initial();
  return series.map((x) => {
    const o = d.observe(state, x);
    state = o.state;
    return o;
  });
}
const firing = (obs: ReturnType<typeof run>, from = 0) => obs.map((o, i) => ({ i, score: o.score })).filter((o) => o.i >= from && Math.abs(o.score) >= THRESHOLD);

describe('baseline detector', () => {
  it('reports nothing during warm-up, even for wild values', () => {
    const obs = run([100, 5000, 3, 100, 100, 100, 100, 100, 100, 100], { warmup: 10 });
    expect(obs.every((o) => o.score === 0 && !o.warm)).toBe(true);
  });

  it('fires on a step, keeps firing while it is new, then learns the new level', () => {
    const n = noise(1, 5);
    const series = [...Array.from({ length: 100 }, () => 100 + n()), ...Array.from({ length: 200 }, () => 160 + n())];
    const obs = run(series);
    expect(firing(obs, 0).filter((f) => f.i < 100)).toEqual([]);
    const after = firing(obs, 100);
    expect(after[0]?.i).toBe(100);
    expect(after.length).toBeGreaterThanOrEqual(3);
    // learned: the last 50 points of the new level score normal
    expect(firing(obs, 250)).toEqual([]);
    expect(obs[299]!.expected).toBeGreaterThan(150);
  });

  it('fires on a spike and is not dragged by it (the next points score normal)', () => {
    const n = noise(2, 3);
    const series = Array.from({ length: 200 }, (_, i) => (i === 120 ? 400 : 50 + n()));
    const obs = run(series);
    expect(firing(obs).map((f) => f.i)).toEqual([120]);
    expect(obs[120]!.score).toBeGreaterThan(20);
    expect(Math.abs(obs[121]!.expected - 50)).toBeLessThan(5);
  });

  it('a negative spike scores negative (rules choose the direction)', () => {
    const n = noise(3, 3);
    const obs = run(Array.from({ length: 100 }, (_, i) => (i === 80 ? 0 : 60 + n())));
    expect(obs[80]!.score).toBeLessThan(-THRESHOLD);
  });

  it('adapts to a slow drift without firing (+150 % over 1000 points)', () => {
    const n = noise(4, 4);
    const series = Array.from({ length: 1000 }, (_, i) => 100 * (1 + (1.5 * i) / 1000) + n());
    const obs = run(series);
    expect(firing(obs)).toEqual([]);
    expect(obs[999]!.expected).toBeGreaterThan(230);
  });

  describe('a seasonal pattern (a daily cycle of 24 hourly points, ×3 between night and day)', () => {
    const n = noise(5, 4);
    const season = (i: number) => 200 + 100 * Math.sin((2 * Math.PI * i) / 24);
    const series = Array.from({ length: 24 * 20 }, (_, i) => season(i) + n());

    it('with seasonPeriod: 24 it learns the cycle and does not fire on it', () => {
      const obs = run(series, { seasonPeriod: 24 });
      expect(obs[47]!.warm).toBe(false); // two seasons of warm-up
      expect(obs[48]!.warm).toBe(true);
      expect(firing(obs)).toEqual([]);
    });

    it('with seasonPeriod: 24 a spike at the quiet hour still fires (it is unusual for that hour)', () => {
      const spiked = series.map((x, i) => (i === 24 * 15 + 18 ? x + 150 : x)); // hour 18 is the trough (≈100)
      const obs = run(spiked, { seasonPeriod: 24 });
      expect(firing(obs).map((f) => f.i)).toEqual([24 * 15 + 18]);
    });

    it('without seasonPeriod the variance absorbs the cycle: no false alarms, but the quiet-hour spike is missed — why series with a cycle get the period', () => {
      const i = 24 * 15 + 18;
      const spiked = series.map((x, j) => (j === i ? x + 150 : x));
      const plain = run(spiked);
      expect(firing(plain).filter((f) => f.i !== i)).toEqual([]);
      expect(plain[i]!.score).toBeLessThan(THRESHOLD);
      expect(plain[i]!.sd).toBeGreaterThan(40); // the cycle's swing, learned as noise
      const seasonal = run(spiked, { seasonPeriod: 24 });
      expect(seasonal[i]!.score).toBeGreaterThan(2 * THRESHOLD);
    });
  });

  it('a flat series does not divide by zero: the relative sd floor applies', () => {
    const obs = run([...Array.from({ length: 50 }, () => 10), 10.2, 13]);
    expect(obs[50]!.score).toBeLessThan(1);
    expect(obs[51]!.score).toBeGreaterThan(THRESHOLD);
    expect(Number.isFinite(obs[51]!.score)).toBe(true);
  });

  it('is deterministic: the same input gives the same scores', () => {
    const n1 = noise(9, 5);
    const s = Array.from({ length: 300 }, () => 100 + n1());
    expect(run(s).map((o) => o.score)).toEqual(run(s).map((o) => o.score));
  });

  it('rejects bad options naming the field', () => {
    expect(() => createBaselineDetector({ alpha: 0 })).toThrow(DetectorOptionsError);
    expect(() => createBaselineDetector({ alpha: 1.5 })).toThrow(/alpha: must be in/);
    expect(() => createBaselineDetector({ seasonPeriod: 1 })).toThrow(/seasonPeriod/);
    expect(() => createBaselineDetector({ warmup: Number.NaN })).toThrow(/warmup/);
  });
});
