/**
 * Anomaly detection against a series' own baseline: an exponentially weighted mean and variance
 * (a level), with optional additive seasonal components (Holt–Winters style), a warm-up, and
 * winsorised updates so an outlier is scored but does not drag the baseline with it.
 *
 * Per observation x (slot s = observation index mod `seasonPeriod`, or 0 without seasons):
 *   expected = level + season[s]
 *   residual = x − expected
 *   sd       = max(√variance, minStd, relStdFloor·|expected|)
 *   score    = residual / sd                                   (0 during warm-up)
 *   x'       = expected + clamp(residual, ±clip·sd)             (winsorised after warm-up)
 *   level   += alpha·(x' − season[s] − level)
 *   season[s] += gamma·(x' − level − season[s])                 (seasonal only)
 *   variance = (1 − beta)·(variance + beta·(x' − expected)²)
 *
 * Why these choices:
 * - A step (a new sustained level) scores high for the first observations, then the clipped
 *   updates move the level towards it at a bounded pace, so a persisting step keeps firing for a
 *   while and is then learned (resolved) — which is what an operator wants to hear once.
 * - A spike is scored but barely moves the baseline (clip), so the values after it score normal.
 * - A slow drift moves by much less than one sd per observation; the level follows it.
 * - A seasonal pattern (e.g. hourly observations over a day: `seasonPeriod: 24`) is learned per
 *   slot, so a value unusual for its hour (a burst at night) still scores high. Without
 *   `seasonPeriod` a smooth cycle does not fire either, but only because its swing is learned as
 *   variance — which also hides such a burst: configure the period for series that have one (the
 *   test suite shows both).
 * - Warm-up: the first `warmup` observations (and, with seasons, the first two full seasons) only
 *   learn; during warm-up alpha is at least 1/n so the level starts as the plain mean.
 *
 * Pure and deterministic: the state is a plain object, `observe` returns the new state.
 */

export interface DetectorOptions {
  /** Level smoothing, 0 < alpha ≤ 1. Defaults to 0.1 (≈ the last 10–20 observations). */
  readonly alpha?: number;
  /** Variance smoothing. Defaults to `alpha`. */
  readonly beta?: number;
  /** Seasonal smoothing. Defaults to 0.3. */
  readonly gamma?: number;
  /** Observations before scores are reported. Defaults to 10. */
  readonly warmup?: number;
  /** Observations per season (e.g. 24 hourly points for a daily cycle). Absent: no seasonality. */
  readonly seasonPeriod?: number;
  /** Residuals are clamped to ±clip·sd before they update the baseline. Defaults to 3. */
  readonly clip?: number;
  /** Absolute floor of the sd (so a perfectly flat series does not score ∞). Defaults to 1e-6. */
  readonly minStd?: number;
  /** Floor of the sd relative to the expected value. Defaults to 0.05 (5 %). */
  readonly relStdFloor?: number;
}

export interface DetectorState {
  readonly n: number;
  readonly level: number;
  readonly variance: number;
  /** Seasonal components (length seasonPeriod), empty without seasons. */
  readonly season: readonly number[];
}

export interface Observation {
  readonly state: DetectorState;
  /** Signed standard score of x against the baseline; 0 while warming up. */
  readonly score: number;
  readonly expected: number;
  readonly sd: number;
  readonly warm: boolean;
}

export interface BaselineDetector {
  readonly options: Required<Omit<DetectorOptions, 'seasonPeriod'>> & { readonly seasonPeriod: number | undefined };
  initial(): DetectorState;
  /**
   * Scores `x` and learns from it. `sdFloor` raises the sd floor for this observation (the signal
   * engine passes the Poisson noise of a count, √expected, so low-volume series do not alarm on
   * one extra call).
   */
  observe(state: DetectorState, x: number, sdFloor?: number): Observation;
}

export class DetectorOptionsError extends Error {
  override readonly name = 'DetectorOptionsError';
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

function check(field: string, v: number, lo: number, hi: number, loOpen = true): number {
  if (!Number.isFinite(v) || (loOpen ? v <= lo : v < lo) || v > hi) throw new DetectorOptionsError(field, `must be in ${loOpen ? '(' : '['}${lo}, ${hi}], got ${v}`);
  return v;
}

export function createBaselineDetector(options: DetectorOptions = {}): BaselineDetector {
  const alpha = check('alpha', options.alpha ?? 0.1, 0, 1);
  const beta = check('beta', options.beta ?? alpha, 0, 1);
  const gamma = check('gamma', options.gamma ?? 0.3, 0, 1);
  const warmup = check('warmup', options.warmup ?? 10, 1, 1e6, false);
  const clip = check('clip', options.clip ?? 3, 0, 1e6);
  const minStd = check('minStd', options.minStd ?? 1e-6, 0, Number.MAX_VALUE);
  const relStdFloor = check('relStdFloor', options.relStdFloor ?? 0.05, 0, 1e6, false);
  const period = options.seasonPeriod;
  if (period !== undefined && (!Number.isInteger(period) || period < 2 || period > 100_000)) {
    throw new DetectorOptionsError('seasonPeriod', `must be an integer in [2, 100000], got ${period}`);
  }
  const warmFor = period === undefined ? warmup : Math.max(warmup, 2 * period);
  const resolved = { alpha, beta, gamma, warmup, clip, minStd, relStdFloor, seasonPeriod: period };

  return {
    options: resolved,
    initial: () => ({ n: 0, level: 0, variance: 0, season: period === undefined ? [] : new Array<number>(period).fill(0) }),
    observe(state, x, sdFloor = 0) {
      const n = state.n + 1;
      const slot = period === undefined ? -1 : state.n % period;
      const seasonal = slot < 0 ? 0 : state.season[slot]!;
      if (state.n === 0) {
        // First point: the level is the value; seasons start at zero deviation.
        const season = period === undefined ? state.season : state.season.map((v, j) => (j === 0 ? x : v));
        return { state: { n, level: x, variance: 0, season }, score: 0, expected: x, sd: minStd, warm: false };
      }
      const expected = state.level + seasonal;
      const residual = x - expected;
      const sd = Math.max(Math.sqrt(state.variance), minStd, relStdFloor * Math.abs(expected), sdFloor);
      const warm = state.n >= warmFor;
      // During the first season the seasonal slots are being seeded: learn them from the raw value.
      const firstSeason = period !== undefined && state.n < period;
      const r = warm ? Math.max(-clip * sd, Math.min(clip * sd, residual)) : residual;
      const xc = expected + r;
      const a = warm ? alpha : Math.max(alpha, 1 / n);
      let level: number;
      let season: number[] | readonly number[] = state.season;
      if (slot < 0) {
        level = state.level + a * (xc - state.level);
      } else if (firstSeason) {
        // Raw values are kept until the season is complete, then made deviations from its mean.
        level = state.level + (x - state.level) / n;
        const seeded = state.season.slice();
        seeded[slot] = x;
        if (n === period) for (let j = 0; j < period; j++) seeded[j] = seeded[j]! - level;
        season = seeded;
      } else {
        level = state.level + a * (xc - seasonal - state.level);
        const next = state.season.slice();
        next[slot] = seasonal + gamma * (xc - level - seasonal);
        season = next;
      }
      const b = warm ? beta : Math.max(beta, 1 / n);
      const variance = firstSeason ? state.variance : (1 - b) * (state.variance + b * r * r);
      return { state: { n, level, variance, season }, score: warm ? residual / sd : 0, expected, sd, warm };
    },
  };
}
