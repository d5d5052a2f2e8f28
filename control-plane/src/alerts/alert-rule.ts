/**
 * Alert rules: which signal, on which series, under which condition, over which window, and how
 * severe. One pure parse-and-validate function turns untrusted JSON into a rule or throws a
 * ClosedLoopError naming every bad field.
 *
 * Semantics (evaluated at every closed bucket of the signal engine):
 * - `threshold`: the signal over the last `windowSeconds` compared with `value` (`op`). A ratio or
 *   latency that is undefined (no requests) never matches.
 * - `anomaly`: the detector's standard score of the signal's last bucket against the series' own
 *   baseline (see signals/baseline-detector.ts) reaches `minScore` in `direction` (default `up`).
 *   Only signals with a detector can be used (the engine's `detectedSignals`).
 * - `minRequests`: the series needs at least that many requests in the window (guards ratios on
 *   tiny samples). Defaults to 0.
 * - The condition must hold for `for` consecutive evaluations to fire (default 1), and be clear
 *   for `resolveAfter` consecutive evaluations to resolve (default 1). One open alert per rule and
 *   series at a time.
 */
import { isDimension, isSignalName, type Dimension, type SignalName } from '../signals/signal-names.js';
import { ClosedLoopError, type ClosedLoopIssue } from './alert-error.js';

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const THRESHOLD_OPS = ['>', '>=', '<', '<='] as const;
export type ThresholdOp = (typeof THRESHOLD_OPS)[number];

export type AlertCondition =
  | { readonly kind: 'threshold'; readonly op: ThresholdOp; readonly value: number }
  | { readonly kind: 'anomaly'; readonly minScore: number; readonly direction: 'up' | 'down' | 'both' };

export interface AlertRule {
  readonly name: string;
  readonly description?: string;
  readonly signal: SignalName;
  readonly dimension: Dimension;
  /** Glob over the series key (`*` matches any run of characters). Defaults to `*`. */
  readonly match: string;
  readonly condition: AlertCondition;
  /** Window of threshold conditions, a multiple of the engine's bucket. Absent: the engine's full window. */
  readonly windowSeconds?: number;
  readonly for: number;
  readonly resolveAfter: number;
  readonly minRequests: number;
  readonly severity: Severity;
  readonly enabled: boolean;
}

/** What the rule may use, from the signal engine's configuration. */
export interface RuleLimits {
  readonly bucketMs: number;
  readonly windowBuckets: number;
  readonly detectedSignals: readonly SignalName[];
}

const NAME = /^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$/;
const KEYS = new Set(['name', 'description', 'signal', 'dimension', 'match', 'condition', 'windowSeconds', 'for', 'resolveAfter', 'minRequests', 'severity', 'enabled']);

/** Validates `input` as an alert rule. Throws ClosedLoopError('INVALID') listing every problem. */
export function parseAlertRule(input: unknown, limits: RuleLimits): AlertRule {
  const issues: ClosedLoopIssue[] = [];
  const bad = (field: string, reason: string): void => void issues.push({ field, reason });
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw ClosedLoopError.invalid('', 'must be a JSON object');
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.has(k)) bad(`/${k}`, 'is not a field of an alert rule');
  const name = o['name'];
  if (typeof name !== 'string' || name.length > 63 || !NAME.test(name)) bad('/name', 'must match [a-z0-9]([-a-z0-9._]*[a-z0-9])?, at most 63 characters');
  const description = o['description'];
  if (description !== undefined && (typeof description !== 'string' || description.length > 1024)) bad('/description', 'must be a string of at most 1024 characters');
  const signal = o['signal'];
  if (typeof signal !== 'string' || !isSignalName(signal)) bad('/signal', 'must be a signal name (requests, request_rate, denials, error_ratio, dlp_findings, dlp_findings:<detector>, response_bytes, latency_ms_p95, ...)');
  const dimension = o['dimension'];
  if (typeof dimension !== 'string' || !isDimension(dimension)) bad('/dimension', 'must be identity, model or version');
  const match = o['match'] ?? '*';
  if (typeof match !== 'string' || match.length === 0 || match.length > 512) bad('/match', 'must be a non-empty glob of at most 512 characters');
  const severity = o['severity'];
  if (typeof severity !== 'string' || !(SEVERITIES as readonly string[]).includes(severity)) bad('/severity', `must be one of ${SEVERITIES.join(', ')}`);
  const int = (field: string, v: unknown, def: number, lo: number, hi: number): number => {
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) bad(`/${field}`, `must be an integer in [${lo}, ${hi}]`);
    return typeof v === 'number' ? v : def;
  };
  const forN = int('for', o['for'], 1, 1, 1000);
  const resolveAfter = int('resolveAfter', o['resolveAfter'], 1, 1, 1000);
  const minRequests = int('minRequests', o['minRequests'], 0, 0, 1e9);
  const enabled = o['enabled'] ?? true;
  if (typeof enabled !== 'boolean') bad('/enabled', 'must be a boolean');
  const bucketSeconds = limits.bucketMs / 1000;
  const maxWindow = bucketSeconds * limits.windowBuckets;
  const windowSeconds = o['windowSeconds'];
  if (windowSeconds !== undefined) {
    if (typeof windowSeconds !== 'number' || !Number.isFinite(windowSeconds) || windowSeconds <= 0 || windowSeconds > maxWindow) {
      bad('/windowSeconds', `must be a number in (0, ${maxWindow}] (the signal engine keeps ${maxWindow} s)`);
    } else if (Math.abs(windowSeconds / bucketSeconds - Math.round(windowSeconds / bucketSeconds)) > 1e-9) {
      bad('/windowSeconds', `must be a multiple of the signal bucket (${bucketSeconds} s)`);
    }
  }
  let condition: AlertCondition | undefined;
  const c = o['condition'];
  if (typeof c !== 'object' || c === null || Array.isArray(c)) bad('/condition', "must be an object with kind 'threshold' or 'anomaly'");
  else {
    const cc = c as Record<string, unknown>;
    if (cc['kind'] === 'threshold') {
      for (const k of Object.keys(cc)) if (!['kind', 'op', 'value'].includes(k)) bad(`/condition/${k}`, 'is not a field of a threshold condition');
      const op = cc['op'] ?? '>';
      const value = cc['value'];
      if (typeof op !== 'string' || !(THRESHOLD_OPS as readonly string[]).includes(op)) bad('/condition/op', `must be one of ${THRESHOLD_OPS.join(' ')}`);
      if (typeof value !== 'number' || !Number.isFinite(value)) bad('/condition/value', 'must be a finite number');
      else condition = { kind: 'threshold', op: op as ThresholdOp, value };
    } else if (cc['kind'] === 'anomaly') {
      for (const k of Object.keys(cc)) if (!['kind', 'minScore', 'direction'].includes(k)) bad(`/condition/${k}`, 'is not a field of an anomaly condition');
      const minScore = cc['minScore'] ?? 4;
      const direction = cc['direction'] ?? 'up';
      if (typeof minScore !== 'number' || !Number.isFinite(minScore) || minScore <= 0 || minScore > 1000) bad('/condition/minScore', 'must be a number in (0, 1000]');
      if (direction !== 'up' && direction !== 'down' && direction !== 'both') bad('/condition/direction', 'must be up, down or both');
      if (typeof signal === 'string' && !limits.detectedSignals.includes(signal as SignalName)) {
        bad('/signal', `has no baseline detector; anomaly rules can use ${limits.detectedSignals.join(', ')}`);
      }
      if (typeof minScore === 'number' && (direction === 'up' || direction === 'down' || direction === 'both')) condition = { kind: 'anomaly', minScore, direction };
    } else bad('/condition/kind', "must be 'threshold' or 'anomaly'");
  }
  if (issues.length > 0 || condition === undefined) {
    throw new ClosedLoopError('INVALID', `invalid alert rule: ${issues.map((i) => `${i.field} ${i.reason}`).join('; ')}`, issues);
  }
  return {
    name: name as string,
    ...(description === undefined ? {} : { description: description as string }),
    signal: signal as SignalName,
    dimension: dimension as Dimension,
    match: match as string,
    condition,
    ...(windowSeconds === undefined ? {} : { windowSeconds: windowSeconds as number }),
    for: forN,
    resolveAfter,
    minRequests,
    severity: severity as Severity,
    enabled: enabled as boolean,
  };
}

/** A glob (`*` = any run of characters) as an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}
