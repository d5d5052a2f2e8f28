/**
 * Alert rules evaluated on signal evaluations (manual clock): validation, threshold and anomaly
 * rules, `for` / `resolveAfter`, recorded and queryable alerts, audit of rule changes, restart.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../../control-plane/src/ca/clock.js';
import { createAlertEngine } from '../../../control-plane/src/alerts/alert-engine.js';
import { ClosedLoopError } from '../../../control-plane/src/alerts/alert-error.js';
import { parseAlertRule, type RuleLimits } from '../../../control-plane/src/alerts/alert-rule.js';
import { createAlertStore } from '../../../control-plane/src/alerts/alert-store.js';
import type { AlertEvent } from '../../../control-plane/src/alerts/alert-sink.js';
import { createSinkDispatcher } from '../../../control-plane/src/alerts/sink-dispatcher.js';
import { createSignalEngine, DEFAULT_DETECTED_SIGNALS } from '../../../control-plane/src/signals/signal-engine.js';
import { createSqliteStore } from '../../../control-plane/src/store/sqlite-store.js';
import { accessRecord } from '../../../control-plane/src/telemetry/access-record.js';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const LIMITS: RuleLimits = { bucketMs: 1000, windowBuckets: 10, detectedSignals: DEFAULT_DETECTED_SIGNALS };
const who = (n: string) => `spiffe://meshward.local/ns/team/sa/${n}`;

function setup(path = ':memory:') {
  const clock = createManualClock(T0);
  const store = createSqliteStore({ path });
  const signals = createSignalEngine({ clock, bucketMs: 1000, windowBuckets: 10, detector: { warmup: 5 } });
  const events: AlertEvent[] = [];
  const dispatcher = createSinkDispatcher({ sinks: [{ name: 'memory', send: async (e) => void events.push(e) }] });
  const alerts = createAlertEngine({ store: createAlertStore(store), dispatcher, limits: LIMITS, now: () => clock.now() });
  signals.onEvaluate((e) => alerts.evaluate(e));
  signals.start();
  return { clock, store, signals, alerts, events, dispatcher };
}

describe('alert rules', () => {
  it('parse with defaults and refuse every bad field by name', () => {
    expect(parseAlertRule({ name: 'r', signal: 'denials', dimension: 'identity', condition: { kind: 'threshold', op: '>', value: 3 }, severity: 'high' }, LIMITS)).toEqual({
      name: 'r', signal: 'denials', dimension: 'identity', match: '*', condition: { kind: 'threshold', op: '>', value: 3 }, for: 1, resolveAfter: 1, minRequests: 0, severity: 'high', enabled: true,
    });
    const bad = (input: unknown): ClosedLoopError => {
      try {
        parseAlertRule(input, LIMITS);
      } catch (err) {
        return err as ClosedLoopError;
      }
      throw new Error('accepted');
    };
    const e = bad({ name: 'Bad Name', signal: 'nope', dimension: 'planet', condition: { kind: 'threshold', op: '!=', value: 'x' }, severity: 'urgent', windowSeconds: 2.5, for: 0, extra: 1 });
    expect(e.code).toBe('INVALID');
    expect(e.issues.map((i) => i.field).sort()).toEqual(['/condition/op', '/condition/value', '/dimension', '/extra', '/for', '/name', '/severity', '/signal', '/windowSeconds'].sort());
    expect(bad({ name: 'r', signal: 'requests', dimension: 'model', condition: { kind: 'anomaly' }, severity: 'low' }).issues).toEqual([{ field: '/signal', reason: expect.stringMatching(/has no baseline detector/) }]);
    expect(bad({ name: 'r', signal: 'requests', dimension: 'model', condition: { kind: 'threshold', value: 1 }, severity: 'low', windowSeconds: 60 }).issues[0]!.field).toBe('/windowSeconds');
    expect(bad(null).issues[0]!.field).toBe('');
  });
});

describe('alert engine', () => {
  it('fires a threshold rule after `for` evaluations, records it, resolves after `resolveAfter`, and sends both to sinks', async () => {
    const { clock, alerts, signals, events, dispatcher } = setup();
    alerts.putRule({ name: 'denied-callers', signal: 'rbac_denials', dimension: 'identity', match: '*/ns/team/*', windowSeconds: 2, condition: { kind: 'threshold', op: '>=', value: 3 }, for: 2, resolveAfter: 2, severity: 'high' }, 'ops');
    const deny = (n: string, k: number) => signals.ingest(Array.from({ length: k }, () => accessRecord({ identity: who(n), responseCode: 403, denied: 'rbac' })));
    deny('x', 3);
    deny('ok', 1);
    signals.ingest([accessRecord({ identity: 'spiffe://other/ns/else/sa/y', denied: 'rbac' }), accessRecord({ identity: 'spiffe://other/ns/else/sa/y', denied: 'rbac' }), accessRecord({ identity: 'spiffe://other/ns/else/sa/y', denied: 'rbac' })]);
    await clock.advance(1000); // 1st evaluation: hit 1 of 2
    expect(alerts.store.queryAlerts().items).toHaveLength(0);
    await clock.advance(1000); // 2nd: the 2-s window still holds the 3 denials → fires
    const open = alerts.store.queryAlerts({ state: 'firing' }).items;
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ rule: 'denied-callers', dimension: 'identity', key: who('x'), value: 3, threshold: 3, severity: 'high', firedAt: new Date(T0 + 2000).toISOString() });
    expect(open[0]!.summary).toBe(`rbac_denials of identity ${who('x')} is 3 over 2 s (>= 3)`);
    await clock.advance(1000); // window empty: clear 1
    expect(alerts.store.queryAlerts({ state: 'firing' }).items).toHaveLength(1);
    await clock.advance(1000); // clear 2 → resolved
    expect(alerts.store.queryAlerts({ state: 'firing' }).items).toHaveLength(0);
    expect(alerts.store.getAlert(open[0]!.id)).toMatchObject({ state: 'resolved', resolvedAt: new Date(T0 + 4000).toISOString() });
    await dispatcher.flush();
    expect(events.map((e) => e.type)).toEqual(['fired', 'resolved']);
    expect(await alerts.registry.metrics()).toMatch(/meshward_alerts_fired_total\{rule="denied-callers",severity="high"\} 1/);
  });

  it('fires an anomaly rule on a burst against the series baseline, not on normal variation', async () => {
    const { clock, alerts, signals } = setup();
    alerts.putRule({ name: 'exfil', signal: 'response_bytes', dimension: 'identity', condition: { kind: 'anomaly', minScore: 6 }, severity: 'critical' }, 'ops');
    for (let i = 0; i < 30; i++) {
      signals.ingest(Array.from({ length: 5 }, (_, j) => accessRecord({ identity: who('a'), responseBytes: 1000 + ((i * 7 + j * 13) % 300) })));
      await clock.advance(1000);
    }
    expect(alerts.store.queryAlerts().items).toHaveLength(0);
    signals.ingest(Array.from({ length: 5 }, () => accessRecord({ identity: who('a'), responseBytes: 200_000 })));
    await clock.advance(1000);
    const [a] = alerts.store.queryAlerts().items;
    expect(a).toMatchObject({ rule: 'exfil', severity: 'critical', key: who('a'), value: 1_000_000 });
    expect(a!.score).toBeGreaterThan(6);
    expect(a!.summary).toMatch(/standard deviations from its baseline/);
  });

  it('minRequests keeps ratio rules quiet on tiny samples', async () => {
    const { clock, alerts, signals } = setup();
    alerts.putRule({ name: 'errors', signal: 'error_ratio', dimension: 'model', condition: { kind: 'threshold', op: '>', value: 0.1 }, minRequests: 10, severity: 'medium' }, 'ops');
    signals.ingest([accessRecord({ model: 'm', responseCode: 500 })]);
    await clock.advance(1000);
    expect(alerts.store.queryAlerts().items).toHaveLength(0);
    signals.ingest(Array.from({ length: 10 }, (_, i) => accessRecord({ model: 'm', responseCode: i < 3 ? 500 : 200 })));
    await clock.advance(1000);
    expect(alerts.store.queryAlerts().items).toHaveLength(1);
  });

  it('audits rule changes, enforces If-Match, resolves open alerts of a deleted rule', async () => {
    const { clock, alerts, signals, store } = setup();
    const r1 = alerts.putRule({ name: 'r', signal: 'requests', dimension: 'model', condition: { kind: 'threshold', op: '>', value: 0 }, severity: 'info' }, 'alice', { createOnly: true });
    expect(r1).toMatchObject({ created: true, stored: { version: 1, updatedBy: 'alice' } });
    expect(() => alerts.putRule({ name: 'r', signal: 'requests', dimension: 'model', condition: { kind: 'threshold', value: 0 }, severity: 'info' }, 'bob', { createOnly: true })).toThrow(/already exists/);
    expect(() => alerts.putRule({ name: 'r', signal: 'requests', dimension: 'model', condition: { kind: 'threshold', value: 1 }, severity: 'info' }, 'bob', { ifMatch: 7 })).toThrow(/version 1, not 7/);
    signals.ingest([accessRecord({ model: 'm' })]);
    await clock.advance(1000);
    expect(alerts.store.openAlerts()).toHaveLength(1);
    alerts.deleteRule('r', 'bob', 1);
    signals.ingest([accessRecord({ model: 'm' })]);
    await clock.advance(1000);
    expect(alerts.store.openAlerts()).toHaveLength(0);
    const audit = store.audit.query({ kind: 'alert-rules', order: 'asc' }).items;
    expect(audit.map((a) => [a.actor, a.action])).toEqual([['alice', 'create'], ['bob', 'delete']]);
    expect(() => alerts.deleteRule('r', 'bob')).toThrow(/does not exist/);
  });

  it('raise() and resolve() for alerts outside rules (rollout guards)', async () => {
    const { alerts, events, dispatcher } = setup();
    const a = alerts.raise({ rule: 'rollout-guard', severity: 'high', dimension: 'rollout', key: 'r1', signal: 'error_ratio', summary: 'rolled back', value: 0.5, threshold: 0.02 });
    expect(alerts.store.getAlert(a.id)).toMatchObject({ state: 'firing', dimension: 'rollout' });
    expect(alerts.resolve(a.id)).toMatchObject({ state: 'resolved' });
    expect(() => alerts.resolve(a.id)).toThrow(/already resolved/);
    expect(() => alerts.resolve(999)).toThrow(/does not exist/);
    await dispatcher.flush();
    expect(events.map((e) => e.type)).toEqual(['fired', 'resolved']);
  });

  it('alerts survive a restart and the new engine resolves what the old one left open', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'mw-alerts-'));
    try {
      const first = setup(join(dir, 'db'));
      first.alerts.putRule({ name: 'r', signal: 'requests', dimension: 'model', condition: { kind: 'threshold', op: '>', value: 0 }, severity: 'low' }, 'ops');
      first.signals.ingest([accessRecord({ model: 'm' })]);
      await first.clock.advance(1000);
      expect(first.alerts.store.openAlerts()).toHaveLength(1);
      first.signals.stop();
      first.store.close();
      const second = setup(join(dir, 'db'));
      expect(second.alerts.listRules().map((r) => r.rule.name)).toEqual(['r']);
      expect(second.alerts.store.openAlerts()).toHaveLength(1);
      await second.clock.advance(1000); // no series any more: resolved
      expect(second.alerts.store.openAlerts()).toHaveLength(0);
      second.store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('queries alerts by state, rule, severity and time, newest first, paginated', async () => {
    const { alerts } = setup();
    for (let i = 0; i < 5; i++) alerts.raise({ rule: i % 2 === 0 ? 'a' : 'b', severity: i < 2 ? 'low' : 'high', dimension: 'rollout', key: `k${i}`, signal: 's', summary: 'x' });
    const p1 = alerts.store.queryAlerts({ limit: 2 });
    expect(p1.items.map((a) => a.key)).toEqual(['k4', 'k3']);
    const p2 = alerts.store.queryAlerts({ limit: 2, before: p1.nextBefore! });
    expect(p2.items.map((a) => a.key)).toEqual(['k2', 'k1']);
    expect(alerts.store.queryAlerts({ rule: 'a', severity: 'high' }).items.map((a) => a.key)).toEqual(['k4', 'k2']);
    expect(alerts.store.queryAlerts({ since: new Date(T0 + 1).toISOString() }).items).toHaveLength(0);
  });
});
