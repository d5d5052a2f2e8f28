/**
 * The guard of a rollout: which version is the canary, which the stable one, how long each step
 * holds, and the bounds the canary must stay within relative to the stable version. Pure parse and
 * validate; errors name the field.
 *
 * Bounds (each optional, defaults below), judged over the signal window once the canary has
 * `minRequests` requests in it:
 * - `maxErrorRatioIncrease`: canary 5xx ratio − stable 5xx ratio. Default 0.02 (2 points).
 * - `maxDenialRatioIncrease`: canary denied ratio − stable. Default 0.05.
 * - `maxDlpFindingRatioIncrease`: canary DLP findings per request − stable. Default 0.05.
 * - `maxLatencyP95Ratio` and `latencyToleranceMs`: canary p95 ≤ stable p95 × ratio + tolerance.
 *   Defaults 1.5 and 50 ms.
 */
import { ClosedLoopError, type ClosedLoopIssue } from '../alerts/alert-error.js';

export interface GuardBounds {
  readonly maxErrorRatioIncrease: number;
  readonly maxDenialRatioIncrease: number;
  readonly maxDlpFindingRatioIncrease: number;
  readonly maxLatencyP95Ratio: number;
  readonly latencyToleranceMs: number;
}

export interface GuardSpec {
  /** Defaults to the version whose weight grows the most from the baseline to the last step. */
  readonly canary?: string;
  /** Defaults to the version with the largest weight before the rollout. */
  readonly stable?: string;
  /** Hold of a step without `pauseSeconds`. Defaults to 300. */
  readonly holdSeconds: number;
  /** Canary requests needed in the window before a step advances or ratios are judged. Defaults to 20. */
  readonly minRequests: number;
  readonly bounds: GuardBounds;
}

export const DEFAULT_BOUNDS: GuardBounds = {
  maxErrorRatioIncrease: 0.02,
  maxDenialRatioIncrease: 0.05,
  maxDlpFindingRatioIncrease: 0.05,
  maxLatencyP95Ratio: 1.5,
  latencyToleranceMs: 50,
};

const VERSION = /^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$/;

export function parseGuardSpec(input: unknown): GuardSpec {
  const issues: ClosedLoopIssue[] = [];
  const bad = (field: string, reason: string): void => void issues.push({ field, reason });
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw ClosedLoopError.invalid('', 'must be a JSON object');
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['canary', 'stable', 'holdSeconds', 'minRequests', 'bounds'].includes(k)) bad(`/${k}`, 'is not a field of a rollout guard');
  for (const k of ['canary', 'stable'] as const) {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'string' || !VERSION.test(v) || v.length > 63)) bad(`/${k}`, 'must be a version name');
  }
  if (o['canary'] !== undefined && o['canary'] === o['stable']) bad('/canary', 'must differ from stable');
  const numIn = (field: string, v: unknown, def: number, lo: number, hi: number, integer = false): number => {
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
      bad(field, `must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}]`);
      return def;
    }
    return v;
  };
  const holdSeconds = numIn('/holdSeconds', o['holdSeconds'], 300, 0, 30 * 86_400, true);
  const minRequests = numIn('/minRequests', o['minRequests'], 20, 0, 1e9, true);
  const b = o['bounds'] ?? {};
  let bounds = DEFAULT_BOUNDS;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) bad('/bounds', 'must be an object');
  else {
    const bb = b as Record<string, unknown>;
    for (const k of Object.keys(bb)) if (!(k in DEFAULT_BOUNDS)) bad(`/bounds/${k}`, `is not a bound (${Object.keys(DEFAULT_BOUNDS).join(', ')})`);
    bounds = {
      maxErrorRatioIncrease: numIn('/bounds/maxErrorRatioIncrease', bb['maxErrorRatioIncrease'], DEFAULT_BOUNDS.maxErrorRatioIncrease, 0, 1),
      maxDenialRatioIncrease: numIn('/bounds/maxDenialRatioIncrease', bb['maxDenialRatioIncrease'], DEFAULT_BOUNDS.maxDenialRatioIncrease, 0, 1),
      maxDlpFindingRatioIncrease: numIn('/bounds/maxDlpFindingRatioIncrease', bb['maxDlpFindingRatioIncrease'], DEFAULT_BOUNDS.maxDlpFindingRatioIncrease, 0, 1000),
      maxLatencyP95Ratio: numIn('/bounds/maxLatencyP95Ratio', bb['maxLatencyP95Ratio'], DEFAULT_BOUNDS.maxLatencyP95Ratio, 1, 100),
      latencyToleranceMs: numIn('/bounds/latencyToleranceMs', bb['latencyToleranceMs'], DEFAULT_BOUNDS.latencyToleranceMs, 0, 600_000),
    };
  }
  if (issues.length > 0) throw new ClosedLoopError('INVALID', `invalid rollout guard: ${issues.map((i) => `${i.field} ${i.reason}`).join('; ')}`, issues);
  return {
    ...(o['canary'] === undefined ? {} : { canary: o['canary'] as string }),
    ...(o['stable'] === undefined ? {} : { stable: o['stable'] as string }),
    holdSeconds,
    minRequests,
    bounds,
  };
}
