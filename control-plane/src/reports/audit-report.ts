/**
 * The audit report over a period: who called which model, what was denied, what was redacted or
 * blocked, which alerts fired, certificate rotations and policy changes. Built from the call
 * rollups, the alerts table and the audit trail; pure apart from those reads.
 *
 * Limits: at most `maxAuditEntries` audit entries (default 10,000) and `maxRows` caller rows
 * (default 1,000, busiest first) are listed; `truncated` says when more existed. Totals are always
 * complete.
 */
import type { AuditEntry, Store } from '../store/store.js';
import { RESOURCE_KINDS } from '../store/resource-kind.js';
import type { AlertStore, Alert } from '../alerts/alert-store.js';
import type { CallRollups, Rollup } from './call-rollups.js';
import { mergeRollup } from './call-rollups.js';
import { ClosedLoopError } from '../alerts/alert-error.js';

export interface CallerRow {
  readonly identity: string;
  readonly model: string;
  readonly versions: readonly string[];
  readonly requests: number;
  readonly deniedRbac: number;
  readonly deniedMtls: number;
  readonly rateLimited: number;
  readonly errors: number;
  readonly dlpAlerted: number;
  readonly dlpRedacted: number;
  readonly dlpBlocked: number;
  readonly findings: Readonly<Record<string, number>>;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly tokensInput: number;
  readonly tokensOutput: number;
}

export interface ReportAuditItem {
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly kind: string;
  readonly name: string;
  readonly revision: number | null;
  readonly reason: string | null;
}

export interface AuditReport {
  readonly period: { readonly since: string; readonly until: string };
  readonly generatedAt: string;
  readonly totals: Omit<CallerRow, 'identity' | 'model' | 'versions'> & { readonly callers: number; readonly models: number };
  /** Per identity and model (versions merged), busiest first. */
  readonly calls: readonly CallerRow[];
  /** The rows of `calls` with denials or rate limiting. */
  readonly denied: readonly CallerRow[];
  /** The rows of `calls` where the filter alerted, redacted or blocked. */
  readonly dataProtection: readonly CallerRow[];
  readonly alerts: { readonly fired: number; readonly bySeverity: Readonly<Record<string, number>>; readonly items: readonly Alert[] };
  readonly certificates: readonly ReportAuditItem[];
  readonly policyChanges: readonly ReportAuditItem[];
  readonly timeWindowSwitches: readonly ReportAuditItem[];
  readonly rollouts: readonly ReportAuditItem[];
  readonly truncated: { readonly calls: boolean; readonly audit: boolean; readonly alerts: boolean };
}

export interface ReportSources {
  readonly store: Store;
  readonly rollups: CallRollups;
  readonly alerts: AlertStore;
  readonly now: () => number;
}

const CERT_KINDS = new Set(['ca', 'certificates', 'join-tokens']);
const POLICY_KINDS = new Set<string>([...RESOURCE_KINDS.filter((k) => k !== 'rollouts'), 'alert-rules', 'api-tokens']);
const WINDOW_ACTIONS = new Set(['window-open', 'window-close']);

/** Parses and checks a report period. `until` defaults to now, `since` to 24 h before `until`. */
export function reportPeriod(since: string | undefined, until: string | undefined, now: number): { sinceMs: number; untilMs: number } {
  const untilMs = until === undefined ? now : Date.parse(until);
  if (Number.isNaN(untilMs)) throw ClosedLoopError.invalid('until', `is not an ISO 8601 time: ${until}`);
  const sinceMs = since === undefined ? untilMs - 86_400_000 : Date.parse(since);
  if (Number.isNaN(sinceMs)) throw ClosedLoopError.invalid('since', `is not an ISO 8601 time: ${since}`);
  if (sinceMs >= untilMs) throw ClosedLoopError.invalid('since', 'must be before until');
  if (untilMs - sinceMs > 366 * 86_400_000) throw ClosedLoopError.invalid('since', 'the period may span at most 366 days');
  return { sinceMs, untilMs };
}

export function buildAuditReport(src: ReportSources, period: { sinceMs: number; untilMs: number }, limits: { maxRows?: number; maxAuditEntries?: number } = {}): AuditReport {
  const maxRows = limits.maxRows ?? 1000;
  const maxAudit = limits.maxAuditEntries ?? 10_000;
  const since = new Date(period.sinceMs).toISOString();
  const until = new Date(period.untilMs).toISOString();

  const byCaller = new Map<string, { r: Rollup; versions: Set<string> }>();
  const total: Rollup = { minute: 0, identity: '', model: '', version: '', requests: 0, deniedRbac: 0, deniedMtls: 0, rateLimited: 0, errors: 0, dlpAlerted: 0, dlpRedacted: 0, dlpBlocked: 0, findings: {}, requestBytes: 0, responseBytes: 0, tokensInput: 0, tokensOutput: 0 };
  for (const r of src.rollups.query(period.sinceMs, period.untilMs)) {
    mergeRollup(total, r);
    const k = `${r.identity}\u0000${r.model}`;
    let c = byCaller.get(k);
    if (c === undefined) {
      c = { r: { ...r, findings: {}, requests: 0, deniedRbac: 0, deniedMtls: 0, rateLimited: 0, errors: 0, dlpAlerted: 0, dlpRedacted: 0, dlpBlocked: 0, requestBytes: 0, responseBytes: 0, tokensInput: 0, tokensOutput: 0 }, versions: new Set() };
      byCaller.set(k, c);
    }
    mergeRollup(c.r, r);
    if (r.version !== '') c.versions.add(r.version);
  }
  const row = ({ r, versions }: { r: Rollup; versions: Set<string> }): CallerRow => ({
    identity: r.identity,
    model: r.model,
    versions: [...versions].sort(),
    requests: r.requests,
    deniedRbac: r.deniedRbac,
    deniedMtls: r.deniedMtls,
    rateLimited: r.rateLimited,
    errors: r.errors,
    dlpAlerted: r.dlpAlerted,
    dlpRedacted: r.dlpRedacted,
    dlpBlocked: r.dlpBlocked,
    findings: r.findings,
    requestBytes: r.requestBytes,
    responseBytes: r.responseBytes,
    tokensInput: r.tokensInput,
    tokensOutput: r.tokensOutput,
  });
  const all = [...byCaller.values()].map(row).sort((a, b) => b.requests - a.requests || a.identity.localeCompare(b.identity) || a.model.localeCompare(b.model));

  // Audit trail of the period, oldest first, bounded.
  const entries: AuditEntry[] = [];
  let cursor: string | undefined;
  let auditTruncated = false;
  for (;;) {
    const page = src.store.audit.query({ since, until, order: 'asc', limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    for (const e of page.items) {
      if (entries.length >= maxAudit) {
        auditTruncated = true;
        break;
      }
      entries.push(e);
    }
    if (auditTruncated || page.nextCursor === undefined) break;
    cursor = page.nextCursor;
  }
  const item = (e: AuditEntry): ReportAuditItem => ({ at: e.at, actor: e.actor, action: e.action, kind: e.kind, name: e.name, revision: e.revision ?? null, reason: e.reason ?? null });

  const alertPage = src.alerts.queryAlerts({ since, until, limit: 1000 });
  const bySeverity: Record<string, number> = {};
  for (const a of alertPage.items) bySeverity[a.severity] = (bySeverity[a.severity] ?? 0) + 1;

  return {
    period: { since, until },
    generatedAt: new Date(src.now()).toISOString(),
    totals: {
      callers: new Set(all.map((r) => r.identity)).size,
      models: new Set(all.map((r) => r.model).filter((m) => m !== '')).size,
      requests: total.requests,
      deniedRbac: total.deniedRbac,
      deniedMtls: total.deniedMtls,
      rateLimited: total.rateLimited,
      errors: total.errors,
      dlpAlerted: total.dlpAlerted,
      dlpRedacted: total.dlpRedacted,
      dlpBlocked: total.dlpBlocked,
      findings: total.findings,
      requestBytes: total.requestBytes,
      responseBytes: total.responseBytes,
      tokensInput: total.tokensInput,
      tokensOutput: total.tokensOutput,
    },
    calls: all.slice(0, maxRows),
    denied: all.filter((r) => r.deniedRbac + r.deniedMtls + r.rateLimited > 0).slice(0, maxRows),
    dataProtection: all.filter((r) => r.dlpAlerted + r.dlpRedacted + r.dlpBlocked > 0).slice(0, maxRows),
    alerts: { fired: alertPage.items.length, bySeverity, items: alertPage.items.slice(0, 200) },
    certificates: entries.filter((e) => CERT_KINDS.has(e.kind)).map(item),
    policyChanges: entries.filter((e) => POLICY_KINDS.has(e.kind) && !WINDOW_ACTIONS.has(e.action)).map(item),
    timeWindowSwitches: entries.filter((e) => WINDOW_ACTIONS.has(e.action)).map(item),
    rollouts: entries.filter((e) => e.kind === 'rollouts' || e.kind === 'rollout-guards').map(item),
    truncated: { calls: all.length > maxRows, audit: auditTruncated, alerts: alertPage.nextBefore !== undefined },
  };
}
