/**
 * Persistence of alert rules and alerts, in the control plane's SQLite database (tables of
 * migration 0003-closed-loop). Every rule change writes its audit entry (kind `alert-rules`) in the
 * same transaction, through the store's audit API, so the audit trail shows who changed which rule.
 * Each call is durable on return (the store runs with synchronous = FULL).
 */
import type Database from 'better-sqlite3';
import type { Store } from '../store/store.js';
import type { Dimension, SignalName } from '../signals/signal-names.js';
import { ClosedLoopError } from './alert-error.js';
import type { AlertRule, Severity } from './alert-rule.js';

export interface StoredAlertRule {
  readonly rule: AlertRule;
  /** Starts at 1, +1 per change (the ETag). */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

export type AlertState = 'firing' | 'resolved';

export interface Alert {
  readonly id: number;
  readonly rule: string;
  readonly severity: Severity;
  readonly dimension: Dimension | 'rollout';
  /** The series key (identity, model, `model|version`) or the rollout name. */
  readonly key: string;
  readonly signal: SignalName | string;
  readonly state: AlertState;
  readonly firedAt: string;
  readonly resolvedAt: string | undefined;
  /** The signal's value when it fired (the window value, or the bucket value for anomaly rules). */
  readonly value: number | undefined;
  /** The anomaly score when it fired (anomaly rules). */
  readonly score: number | undefined;
  /** The threshold or minimum score the rule compares with. */
  readonly threshold: number | undefined;
  readonly summary: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface NewAlert extends Omit<Alert, 'id' | 'state' | 'resolvedAt'> {}

export interface AlertQuery {
  readonly state?: AlertState;
  readonly rule?: string;
  readonly dimension?: string;
  readonly key?: string;
  readonly severity?: Severity;
  /** fired_at ≥ since (ISO 8601). */
  readonly since?: string;
  /** fired_at < until. */
  readonly until?: string;
  /** 1..1000, default 100. Newest first. */
  readonly limit?: number;
  /** Return alerts with id < before (the previous page's last id). */
  readonly before?: number;
}

export interface AlertStore {
  listRules(): StoredAlertRule[];
  getRule(name: string): StoredAlertRule | undefined;
  /** Creates or replaces. `ifMatch`: the version the caller read (PRECONDITION_FAILED if it moved); `create: true` refuses an existing rule (CONFLICT). */
  putRule(rule: AlertRule, actor: string, options?: { ifMatch?: number; createOnly?: boolean }): { stored: StoredAlertRule; created: boolean; changed: boolean };
  deleteRule(name: string, actor: string, ifMatch?: number): void;
  insertAlert(alert: NewAlert): Alert;
  resolveAlert(id: number, at: string): Alert | undefined;
  getAlert(id: number): Alert | undefined;
  queryAlerts(query?: AlertQuery): { items: Alert[]; nextBefore: number | undefined };
  openAlerts(): Alert[];
}

interface RuleRow {
  name: string;
  spec: string;
  version: number;
  created_at: string;
  updated_at: string;
  updated_by: string;
}
interface AlertRow {
  id: number;
  rule: string;
  severity: string;
  dimension: string;
  series_key: string;
  signal: string;
  state: string;
  fired_at: string;
  resolved_at: string | null;
  value: number | null;
  score: number | null;
  threshold: number | null;
  summary: string;
  labels: string;
}

const toRule = (r: RuleRow): StoredAlertRule => ({
  rule: JSON.parse(r.spec) as AlertRule,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  updatedBy: r.updated_by,
});
const toAlert = (r: AlertRow): Alert => ({
  id: r.id,
  rule: r.rule,
  severity: r.severity as Severity,
  dimension: r.dimension as Alert['dimension'],
  key: r.series_key,
  signal: r.signal,
  state: r.state as AlertState,
  firedAt: r.fired_at,
  resolvedAt: r.resolved_at ?? undefined,
  value: r.value ?? undefined,
  score: r.score ?? undefined,
  threshold: r.threshold ?? undefined,
  summary: r.summary,
  labels: JSON.parse(r.labels) as Record<string, string>,
});
const num = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : v);

export function createAlertStore(store: Store & { readonly database: Database.Database }, now: () => Date = () => new Date()): AlertStore {
  const db = store.database;
  const getRule = db.prepare<[string], RuleRow>('SELECT * FROM alert_rules WHERE name = ?');
  const insertAlertStmt = db.prepare(
    `INSERT INTO alerts (rule, severity, dimension, series_key, signal, state, fired_at, value, score, threshold, summary, labels)
     VALUES (@rule, @severity, @dimension, @series_key, @signal, 'firing', @fired_at, @value, @score, @threshold, @summary, @labels)`,
  );
  const getAlert = db.prepare<[number], AlertRow>('SELECT * FROM alerts WHERE id = ?');

  return {
    listRules: () => db.prepare<[], RuleRow>('SELECT * FROM alert_rules ORDER BY name').all().map(toRule),
    getRule(name) {
      const r = getRule.get(name);
      return r === undefined ? undefined : toRule(r);
    },
    putRule(rule, actor, options = {}) {
      return store.transaction(() => {
        const before = getRule.get(rule.name);
        if (before !== undefined && options.createOnly === true) throw new ClosedLoopError('CONFLICT', `alert rule ${rule.name} already exists`);
        if (options.ifMatch !== undefined && (before === undefined || before.version !== options.ifMatch)) {
          throw new ClosedLoopError('PRECONDITION_FAILED', `alert rule ${rule.name} is at version ${before?.version ?? 'none'}, not ${options.ifMatch}`);
        }
        const spec = JSON.stringify(rule);
        if (before !== undefined && before.spec === spec) return { stored: toRule(before), created: false, changed: false };
        const at = now().toISOString();
        const version = (before?.version ?? 0) + 1;
        db.prepare(
          `INSERT INTO alert_rules (name, spec, version, created_at, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(name) DO UPDATE SET spec = excluded.spec, version = excluded.version, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        ).run(rule.name, spec, version, before?.created_at ?? at, at, actor);
        store.audit.record({
          actor,
          action: before === undefined ? 'create' : 'update',
          kind: 'alert-rules',
          name: rule.name,
          ...(before === undefined ? {} : { before: JSON.parse(before.spec) }),
          after: rule,
        });
        return { stored: toRule(getRule.get(rule.name)!), created: before === undefined, changed: true };
      });
    },
    deleteRule(name, actor, ifMatch) {
      store.transaction(() => {
        const before = getRule.get(name);
        if (before === undefined) throw new ClosedLoopError('NOT_FOUND', `alert rule ${name} does not exist`);
        if (ifMatch !== undefined && before.version !== ifMatch) throw new ClosedLoopError('PRECONDITION_FAILED', `alert rule ${name} is at version ${before.version}, not ${ifMatch}`);
        db.prepare('DELETE FROM alert_rules WHERE name = ?').run(name);
        store.audit.record({ actor, action: 'delete', kind: 'alert-rules', name, before: JSON.parse(before.spec) });
      });
    },
    insertAlert(a) {
      const info = insertAlertStmt.run({
        rule: a.rule,
        severity: a.severity,
        dimension: a.dimension,
        series_key: a.key,
        signal: a.signal,
        fired_at: a.firedAt,
        value: num(a.value),
        score: num(a.score),
        threshold: num(a.threshold),
        summary: a.summary,
        labels: JSON.stringify(a.labels),
      });
      return toAlert(getAlert.get(Number(info.lastInsertRowid))!);
    },
    resolveAlert(id, at) {
      db.prepare(`UPDATE alerts SET state = 'resolved', resolved_at = ? WHERE id = ? AND state = 'firing'`).run(at, id);
      const r = getAlert.get(id);
      return r === undefined ? undefined : toAlert(r);
    },
    getAlert(id) {
      const r = getAlert.get(id);
      return r === undefined ? undefined : toAlert(r);
    },
    queryAlerts(q = {}) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      const eq = (col: string, v: string | number | undefined): void => {
        if (v === undefined) return;
        where.push(`${col} = ?`);
        args.push(v);
      };
      eq('state', q.state);
      eq('rule', q.rule);
      eq('dimension', q.dimension);
      eq('series_key', q.key);
      eq('severity', q.severity);
      if (q.since !== undefined) (where.push('fired_at >= ?'), args.push(q.since));
      if (q.until !== undefined) (where.push('fired_at < ?'), args.push(q.until));
      if (q.before !== undefined) (where.push('id < ?'), args.push(q.before));
      const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
      const rows = db
        .prepare<(string | number)[], AlertRow>(`SELECT * FROM alerts ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY id DESC LIMIT ${limit + 1}`)
        .all(...args);
      const items = rows.slice(0, limit).map(toAlert);
      return { items, nextBefore: rows.length > limit ? items[items.length - 1]!.id : undefined };
    },
    openAlerts: () => db.prepare<[], AlertRow>(`SELECT * FROM alerts WHERE state = 'firing' ORDER BY id`).all().map(toAlert),
  };
}
