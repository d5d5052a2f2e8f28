/**
 * Compares a canary version with the stable one over the signal window. Pure.
 * `insufficient` while the canary has fewer than `minRequests` requests (nothing is judged on a
 * handful of calls); `breach` names every bound that was crossed, with the figures.
 */
import type { SeriesView } from '../signals/signal-engine.js';
import type { GuardSpec } from './guard-spec.js';

export interface CanaryFigures {
  readonly canaryRequests: number;
  readonly stableRequests: number;
  readonly canaryErrorRatio: number | null;
  readonly stableErrorRatio: number | null;
  readonly canaryDenialRatio: number | null;
  readonly stableDenialRatio: number | null;
  readonly canaryDlpFindingRatio: number | null;
  readonly stableDlpFindingRatio: number | null;
  readonly canaryLatencyP95Ms: number | null;
  readonly stableLatencyP95Ms: number | null;
}

export interface Breach {
  /** The signal that crossed its bound: error_ratio, denial_ratio, dlp_finding_ratio, latency_ms_p95. */
  readonly signal: string;
  readonly canary: number;
  readonly limit: number;
  readonly message: string;
}

export type CanaryVerdict =
  | { readonly verdict: 'insufficient'; readonly figures: CanaryFigures }
  | { readonly verdict: 'healthy'; readonly figures: CanaryFigures }
  | { readonly verdict: 'breach'; readonly figures: CanaryFigures; readonly breaches: readonly Breach[] };

const val = (s: SeriesView | undefined, signal: Parameters<SeriesView['value']>[0]): number => (s === undefined ? NaN : s.value(signal));
const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v);
const pct = (v: number): string => `${(v * 100).toFixed(1)} %`;

export function judgeCanary(canary: SeriesView | undefined, stable: SeriesView | undefined, spec: GuardSpec): CanaryVerdict {
  const cReq = canary === undefined ? 0 : canary.value('requests');
  const sReq = stable === undefined ? 0 : stable.value('requests');
  const c = {
    err: val(canary, 'error_ratio'),
    den: val(canary, 'denial_ratio'),
    dlp: val(canary, 'dlp_finding_ratio'),
    p95: val(canary, 'latency_ms_p95'),
  };
  const s = {
    err: val(stable, 'error_ratio'),
    den: val(stable, 'denial_ratio'),
    dlp: val(stable, 'dlp_finding_ratio'),
    p95: val(stable, 'latency_ms_p95'),
  };
  const figures: CanaryFigures = {
    canaryRequests: cReq,
    stableRequests: sReq,
    canaryErrorRatio: orNull(c.err),
    stableErrorRatio: orNull(s.err),
    canaryDenialRatio: orNull(c.den),
    stableDenialRatio: orNull(s.den),
    canaryDlpFindingRatio: orNull(c.dlp),
    stableDlpFindingRatio: orNull(s.dlp),
    canaryLatencyP95Ms: orNull(c.p95),
    stableLatencyP95Ms: orNull(s.p95),
  };
  if (cReq < Math.max(1, spec.minRequests)) return { verdict: 'insufficient', figures };
  const b = spec.bounds;
  const breaches: Breach[] = [];
  // A stable version without traffic in the window is a zero baseline for ratios.
  const base = (v: number): number => (Number.isNaN(v) ? 0 : v);
  const ratio = (signal: string, cv: number, sv: number, inc: number, label: string): void => {
    if (Number.isNaN(cv)) return;
    const limit = base(sv) + inc;
    if (cv > limit) breaches.push({ signal, canary: cv, limit, message: `canary ${label} ${pct(cv)} > stable ${pct(base(sv))} + ${pct(inc)}` });
  };
  ratio('error_ratio', c.err, s.err, b.maxErrorRatioIncrease, 'error ratio');
  ratio('denial_ratio', c.den, s.den, b.maxDenialRatioIncrease, 'denial ratio');
  if (!Number.isNaN(c.dlp)) {
    const limit = base(s.dlp) + b.maxDlpFindingRatioIncrease;
    if (c.dlp > limit) breaches.push({ signal: 'dlp_finding_ratio', canary: c.dlp, limit, message: `canary DLP findings per request ${c.dlp.toFixed(3)} > stable ${base(s.dlp).toFixed(3)} + ${b.maxDlpFindingRatioIncrease}` });
  }
  if (!Number.isNaN(c.p95) && !Number.isNaN(s.p95)) {
    const limit = s.p95 * b.maxLatencyP95Ratio + b.latencyToleranceMs;
    if (c.p95 > limit) breaches.push({ signal: 'latency_ms_p95', canary: c.p95, limit, message: `canary p95 latency ${c.p95.toFixed(0)} ms > stable ${s.p95.toFixed(0)} ms × ${b.maxLatencyP95Ratio} + ${b.latencyToleranceMs} ms` });
  }
  return breaches.length > 0 ? { verdict: 'breach', figures, breaches } : { verdict: 'healthy', figures };
}
