/**
 * Turns signal evaluations into alerts: evaluates every enabled rule on every matching series at
 * each closed bucket, opens an alert when a condition has held `for` evaluations, resolves it when
 * it has been clear `resolveAfter` evaluations (or its series was evicted), records both in the
 * database, and hands the events to the sink dispatcher (which never blocks).
 *
 * Contract:
 * - At most one open alert per (rule, series). Alerts left open by a previous process are taken
 *   over at start and resolve normally.
 * - Rules are managed here (`putRule` / `deleteRule`, validated against the signal engine's
 *   limits, audited through the store); deleting or disabling a rule resolves its open alerts.
 * - `raise()` records an alert that is not derived from a rule (rollout guards) and delivers it.
 * - Prometheus: `meshward_alerts_fired_total{rule,severity}`, `meshward_alerts_resolved_total{rule}`,
 *   `meshward_alerts_firing{severity}`, `meshward_alert_rule_evaluations_total`.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { SignalEvaluation, SeriesView } from '../signals/signal-engine.js';
import { ClosedLoopError } from './alert-error.js';
import { globToRegExp, parseAlertRule, type AlertRule, type RuleLimits, type Severity } from './alert-rule.js';
import type { Alert, AlertStore, NewAlert, StoredAlertRule } from './alert-store.js';
import type { SinkDispatcher } from './sink-dispatcher.js';

export interface AlertEngineOptions {
  readonly store: AlertStore;
  readonly dispatcher: SinkDispatcher;
  readonly limits: RuleLimits;
  readonly now: () => number;
  readonly registry?: Registry;
  /** Called after an alert is recorded (fired or resolved), e.g. for tests and logs. */
  readonly onAlert?: (event: { type: 'fired' | 'resolved'; alert: Alert }) => void;
}

export interface RaiseInput {
  readonly rule: string;
  readonly severity: Severity;
  readonly dimension: Alert['dimension'];
  readonly key: string;
  readonly signal: string;
  readonly summary: string;
  readonly value?: number;
  readonly threshold?: number;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface AlertEngine {
  evaluate(evaluation: SignalEvaluation): void;
  raise(input: RaiseInput): Alert;
  /** Resolves an open alert by hand (e.g. a rollout alert after the operator looked). */
  resolve(id: number): Alert;
  putRule(input: unknown, actor: string, options?: { ifMatch?: number; createOnly?: boolean }): { stored: StoredAlertRule; created: boolean };
  deleteRule(name: string, actor: string, ifMatch?: number): void;
  listRules(): StoredAlertRule[];
  getRule(name: string): StoredAlertRule | undefined;
  readonly store: AlertStore;
  readonly registry: Registry;
}

interface Track {
  hits: number;
  clears: number;
  open: Alert | undefined;
}

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(4));

export function createAlertEngine(options: AlertEngineOptions): AlertEngine {
  const { store, dispatcher } = options;
  const registry = options.registry ?? new Registry();
  const fired = new Counter({ name: 'meshward_alerts_fired_total', help: 'Alerts fired, per rule and severity.', labelNames: ['rule', 'severity'] as const, registers: [registry] });
  const resolvedC = new Counter({ name: 'meshward_alerts_resolved_total', help: 'Alerts resolved, per rule.', labelNames: ['rule'] as const, registers: [registry] });
  const evaluations = new Counter({ name: 'meshward_alert_rule_evaluations_total', help: 'Rule evaluations (rules × closed buckets).', registers: [registry] });
  const tracks = new Map<string, Track>();
  const manual = new Map<number, Alert>();
  new Gauge({
    name: 'meshward_alerts_firing',
    help: 'Alerts currently firing, per severity.',
    labelNames: ['severity'] as const,
    registers: [registry],
    collect() {
      const counts: Record<string, number> = { info: 0, low: 0, medium: 0, high: 0, critical: 0 };
      for (const t of tracks.values()) if (t.open !== undefined) counts[t.open.severity]!++;
      for (const a of manual.values()) counts[a.severity]!++;
      for (const [severity, n] of Object.entries(counts)) this.set({ severity }, n);
    },
  });

  let rules: { rule: AlertRule; re: RegExp }[] = [];
  const loadRules = (): void => {
    rules = store
      .listRules()
      .filter((r) => r.rule.enabled)
      .map((r) => ({ rule: r.rule, re: globToRegExp(r.rule.match) }));
  };
  loadRules();
  const trackKey = (rule: string, dim: string, key: string): string => `${rule}\u0000${dim}\u0000${key}`;
  for (const a of store.openAlerts()) {
    if (store.getRule(a.rule) === undefined && a.dimension === 'rollout') manual.set(a.id, a);
    else tracks.set(trackKey(a.rule, a.dimension, a.key), { hits: 0, clears: 0, open: a });
  }

  const emit = (type: 'fired' | 'resolved', alert: Alert): void => {
    if (type === 'fired') fired.inc({ rule: alert.rule, severity: alert.severity });
    else resolvedC.inc({ rule: alert.rule });
    dispatcher.dispatch({ type, alert });
    options.onAlert?.({ type, alert });
  };
  const iso = (): string => new Date(options.now()).toISOString();
  const resolveTrack = (t: Track): void => {
    if (t.open === undefined) return;
    const done = store.resolveAlert(t.open.id, iso());
    t.open = undefined;
    if (done !== undefined) emit('resolved', done);
  };

  /** The rule's reading of a series: [matches, value, score]. */
  const check = (rule: AlertRule, s: SeriesView, bucketMs: number): { hit: boolean; value: number; score: number | undefined } => {
    const buckets = rule.windowSeconds === undefined ? undefined : Math.round((rule.windowSeconds * 1000) / bucketMs);
    if (rule.minRequests > 0 && s.value('requests', buckets) < rule.minRequests) return { hit: false, value: NaN, score: undefined };
    const c = rule.condition;
    if (c.kind === 'threshold') {
      const v = s.value(rule.signal, buckets);
      if (Number.isNaN(v)) return { hit: false, value: v, score: undefined };
      const hit = c.op === '>' ? v > c.value : c.op === '>=' ? v >= c.value : c.op === '<' ? v < c.value : v <= c.value;
      return { hit, value: v, score: undefined };
    }
    const o = s.anomaly(rule.signal);
    if (o === undefined || !o.warm) return { hit: false, value: NaN, score: undefined };
    const hit = c.direction === 'up' ? o.score >= c.minScore : c.direction === 'down' ? -o.score >= c.minScore : Math.abs(o.score) >= c.minScore;
    return { hit, value: s.value(rule.signal, 1), score: o.score };
  };

  const summaryOf = (rule: AlertRule, s: SeriesView, value: number, score: number | undefined): string => {
    const c = rule.condition;
    const what = `${rule.signal} of ${s.dimension} ${s.key}`;
    if (c.kind === 'threshold') return `${what} is ${fmt(value)} over ${rule.windowSeconds ?? 'the signal window'}${rule.windowSeconds === undefined ? '' : ' s'} (${c.op} ${fmt(c.value)})`;
    return `${what} is ${fmt(value)}, ${fmt(score ?? 0)} standard deviations from its baseline (≥ ${fmt(c.minScore)} ${c.direction})`;
  };

  const engine: AlertEngine = {
    store,
    registry,
    evaluate(evaluation) {
      const seen = new Set<string>();
      for (const { rule, re } of rules) {
        evaluations.inc();
        for (const s of evaluation.series(rule.dimension)) {
          if (!re.test(s.key)) continue;
          const k = trackKey(rule.name, s.dimension, s.key);
          seen.add(k);
          const { hit, value, score } = check(rule, s, evaluation.bucketMs);
          let t = tracks.get(k);
          if (t === undefined) {
            if (!hit) continue;
            t = { hits: 0, clears: 0, open: undefined };
            tracks.set(k, t);
          }
          if (hit) {
            t.hits++;
            t.clears = 0;
            if (t.open === undefined && t.hits >= rule.for) {
              const c = rule.condition;
              const input: NewAlert = {
                rule: rule.name,
                severity: rule.severity,
                dimension: s.dimension,
                key: s.key,
                signal: rule.signal,
                firedAt: new Date(evaluation.at).toISOString(),
                value,
                score,
                threshold: c.kind === 'threshold' ? c.value : c.minScore,
                summary: summaryOf(rule, s, value, score),
                labels: { [s.dimension]: s.key, ...(rule.description === undefined ? {} : { description: rule.description }) },
              };
              t.open = store.insertAlert(input);
              emit('fired', t.open);
            }
          } else {
            t.hits = 0;
            t.clears++;
            if (t.open !== undefined && t.clears >= rule.resolveAfter) resolveTrack(t);
            if (t.open === undefined) tracks.delete(k);
          }
        }
      }
      // Open alerts whose rule is gone or disabled, or whose series was evicted, resolve.
      for (const [k, t] of tracks) {
        if (seen.has(k)) continue;
        resolveTrack(t);
        tracks.delete(k);
      }
    },
    raise(input) {
      const alert = store.insertAlert({
        rule: input.rule,
        severity: input.severity,
        dimension: input.dimension,
        key: input.key,
        signal: input.signal,
        firedAt: iso(),
        value: input.value,
        score: undefined,
        threshold: input.threshold,
        summary: input.summary,
        labels: input.labels ?? {},
      });
      manual.set(alert.id, alert);
      emit('fired', alert);
      return alert;
    },
    resolve(id) {
      const a = store.getAlert(id);
      if (a === undefined) throw new ClosedLoopError('NOT_FOUND', `alert ${id} does not exist`);
      if (a.state === 'resolved') throw new ClosedLoopError('CONFLICT', `alert ${id} is already resolved`);
      for (const t of tracks.values()) if (t.open?.id === id) t.open = undefined;
      manual.delete(id);
      const done = store.resolveAlert(id, iso())!;
      emit('resolved', done);
      return done;
    },
    putRule(input, actor, opts = {}) {
      const rule = parseAlertRule(input, options.limits);
      const r = store.putRule(rule, actor, opts);
      if (r.changed) loadRules();
      return { stored: r.stored, created: r.created };
    },
    deleteRule(name, actor, ifMatch) {
      store.deleteRule(name, actor, ifMatch);
      loadRules();
    },
    listRules: () => store.listRules(),
    getRule: (name) => store.getRule(name),
  };
  return engine;
}

