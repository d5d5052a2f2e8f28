/**
 * Audit reports over a period: call rollups persisted per minute, denials, redactions, alerts,
 * certificate rotations, policy changes and time-window switches, as JSON and escaped HTML.
 */
import { describe, expect, it } from 'vitest';
import { createAlertStore } from '../../../control-plane/src/alerts/alert-store.js';
import { buildAuditReport, reportPeriod } from '../../../control-plane/src/reports/audit-report.js';
import { createCallRollups } from '../../../control-plane/src/reports/call-rollups.js';
import { renderReportHtml } from '../../../control-plane/src/reports/report-html.js';
import { createSqliteStore } from '../../../control-plane/src/store/sqlite-store.js';
import { accessRecord } from '../../../control-plane/src/telemetry/access-record.js';

const T0 = Date.parse('2026-03-02T10:00:00Z');
const a = 'spiffe://meshward.local/ns/apps/sa/chatbot';
const b = 'spiffe://meshward.local/ns/apps/sa/<script>alert(1)</script>';

function setup() {
  let now = T0;
  const store = createSqliteStore({ path: ':memory:', now: () => new Date(now) });
  const rollups = createCallRollups({ database: store.database, now: () => now });
  const alerts = createAlertStore(store, () => new Date(now));
  return { store, rollups, alerts, at: (ms: number) => (now = ms), now: () => now };
}

describe('call rollups', () => {
  it('aggregate per minute, identity, model and version; flushes add up; pending rows are visible to queries', () => {
    const { rollups } = setup();
    rollups.add([
      accessRecord({ startMs: T0 + 1000, identity: a, model: 'chat', version: 'v1', responseBytes: 100, tokens: { input: 3, output: 4 } }),
      accessRecord({ startMs: T0 + 2000, identity: a, model: 'chat', version: 'v1', dlp: { outcome: 'redact', findings: { email: 2 } } }),
    ]);
    expect(rollups.flush()).toBe(1);
    rollups.add([accessRecord({ startMs: T0 + 3000, identity: a, model: 'chat', version: 'v1', dlp: { outcome: 'block', findings: { email: 1, iban: 1 } } })]);
    const [r] = rollups.query(T0, T0 + 60_000);
    expect(r).toMatchObject({ identity: a, requests: 3, dlpRedacted: 1, dlpBlocked: 1, findings: { email: 3, iban: 1 }, responseBytes: 100, tokensInput: 3, tokensOutput: 4 });
    rollups.flush();
    expect(rollups.query(T0, T0 + 60_000)[0]).toMatchObject({ requests: 3, findings: { email: 3, iban: 1 } });
    expect(rollups.query(T0 + 60_000, T0 + 120_000)).toEqual([]);
  });

  it('is bounded: keys beyond the limit aggregate under ~other', () => {
    const { store } = setup();
    const rollups = createCallRollups({ database: store.database, now: () => T0, maxPendingKeys: 2 });
    rollups.add(['x', 'y', 'z', 'w'].map((n) => accessRecord({ startMs: T0, identity: n, model: 'm' })));
    expect(rollups.stats()).toMatchObject({ pendingKeys: 3, overflow: 2 });
    const other = rollups.query(T0, T0 + 60_000).find((r) => r.identity === '~other');
    expect(other?.requests).toBe(2);
  });
});

describe('audit report', () => {
  it('summarises who called which model, denials, redactions, alerts, certificates, policy changes and window switches', () => {
    const s = setup();
    s.rollups.add([
      ...Array.from({ length: 5 }, () => accessRecord({ startMs: T0 + 1000, identity: a, model: 'chat', version: 'v1' })),
      accessRecord({ startMs: T0 + 2000, identity: a, model: 'chat', version: 'v2', responseCode: 503 }),
      accessRecord({ startMs: T0 + 3000, identity: b, model: 'chat', responseCode: 403, denied: 'rbac' }),
      accessRecord({ startMs: T0 + 3000, identity: a, model: 'embed', version: 'v1', dlp: { outcome: 'redact', findings: { email: 1 } } }),
      accessRecord({ startMs: T0 + 4000, kind: 'tcp', denied: 'mtls', responseCode: 0 }),
      accessRecord({ startMs: T0 - 3_600_000, identity: a, model: 'chat', version: 'v1' }), // before the period
    ]);
    s.at(T0 + 5000);
    s.store.commit([{ op: 'create', kind: 'authorization-policies', name: 'p', spec: { name: 'p', rules: [] } }], { actor: 'alice', reason: 'CHG-1' });
    s.store.audit.record({ actor: 'alice', action: 'rotate', kind: 'ca', name: 'meshward.local' });
    s.store.audit.record({ actor: 'meshward-scheduler', action: 'window-open', kind: 'authorization-policies', name: 'p' });
    s.store.audit.record({ actor: 'meshward-rollout-guard', action: 'pause', kind: 'rollout-guards', name: 'r' });
    s.alerts.insertAlert({ rule: 'denials', severity: 'high', dimension: 'identity', key: b, signal: 'denials', firedAt: new Date(T0 + 6000).toISOString(), value: 1, score: undefined, threshold: 0, summary: `denials of ${b}`, labels: {} });
    s.at(T0 + 10 * 60_000);
    const report = buildAuditReport({ store: s.store, rollups: s.rollups, alerts: s.alerts, now: s.now }, reportPeriod(new Date(T0).toISOString(), undefined, s.now()));
    expect(report.period).toEqual({ since: new Date(T0).toISOString(), until: new Date(T0 + 600_000).toISOString() });
    expect(report.totals).toMatchObject({ requests: 8, callers: 3, models: 2, deniedRbac: 1, deniedMtls: 1, errors: 1, dlpRedacted: 1, findings: { email: 1 } });
    expect(report.calls[0]).toMatchObject({ identity: a, model: 'chat', versions: ['v1', 'v2'], requests: 6, errors: 1 });
    expect(report.denied.map((r) => r.identity).sort()).toEqual(['anonymous', b].sort());
    expect(report.dataProtection).toMatchObject([{ identity: a, model: 'embed', dlpRedacted: 1 }]);
    expect(report.alerts).toMatchObject({ fired: 1, bySeverity: { high: 1 } });
    expect(report.certificates).toMatchObject([{ action: 'rotate', kind: 'ca' }]);
    expect(report.policyChanges).toMatchObject([{ action: 'create', kind: 'authorization-policies', name: 'p', reason: 'CHG-1', revision: 1 }]);
    expect(report.timeWindowSwitches).toMatchObject([{ action: 'window-open', name: 'p' }]);
    expect(report.rollouts).toMatchObject([{ action: 'pause', kind: 'rollout-guards' }]);
    expect(report.truncated).toEqual({ calls: false, audit: false, alerts: false });

    const html = renderReportHtml(report);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('Who called which model');
    expect(html).toContain('<b>8</b>requests');
    expect(html).toContain('CHG-1');
  });

  it('checks the period, naming the parameter', () => {
    expect(() => reportPeriod('yesterday', undefined, T0)).toThrow(/since: is not an ISO 8601 time/);
    expect(() => reportPeriod(undefined, 'x', T0)).toThrow(/until/);
    expect(() => reportPeriod(new Date(T0).toISOString(), new Date(T0 - 1).toISOString(), T0)).toThrow(/since: must be before until/);
    expect(() => reportPeriod('2020-01-01T00:00:00Z', '2026-01-01T00:00:00Z', T0)).toThrow(/366 days/);
    expect(reportPeriod(undefined, undefined, T0)).toEqual({ sinceMs: T0 - 86_400_000, untilMs: T0 });
  });
});
