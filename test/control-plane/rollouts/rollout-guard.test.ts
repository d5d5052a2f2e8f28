/**
 * Guarded canary rollouts on a manual clock: steps advance on schedule while the canary is within
 * bounds, a breach rolls back through the store (audited) with an alert, manual pause / resume /
 * abort, and the validation of guards.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../../control-plane/src/ca/clock.js';
import { createAlertEngine, type AlertEngine } from '../../../control-plane/src/alerts/alert-engine.js';
import { createAlertStore } from '../../../control-plane/src/alerts/alert-store.js';
import { createSinkDispatcher } from '../../../control-plane/src/alerts/sink-dispatcher.js';
import { parseGuardSpec } from '../../../control-plane/src/rollouts/guard-spec.js';
import { judgeCanary } from '../../../control-plane/src/rollouts/judge-canary.js';
import { createRolloutGuard, GUARD_ACTOR, type RolloutGuard } from '../../../control-plane/src/rollouts/rollout-guard.js';
import { createSignalEngine, DEFAULT_DETECTED_SIGNALS, type SignalEngine } from '../../../control-plane/src/signals/signal-engine.js';
import { createSqliteStore, type SqliteStore } from '../../../control-plane/src/store/sqlite-store.js';
import { accessRecord, type AccessRecord } from '../../../control-plane/src/telemetry/access-record.js';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const model = (w1: number, w2: number) => ({
  name: 'chat',
  versions: [
    { name: 'v1', weight: w1, endpoints: [{ address: '10.0.0.1', port: 8000 }] },
    { name: 'v2', weight: w2, endpoints: [{ address: '10.0.0.2', port: 8000 }] },
  ],
});
const plan = { name: 'chat-v2', model: 'chat', steps: [{ weights: { v1: 90, v2: 10 }, pauseSeconds: 10 }, { weights: { v1: 50, v2: 50 } }, { weights: { v1: 0, v2: 100 } }] };

let clock: ManualClock;
let store: SqliteStore;
let signals: SignalEngine;
let alerts: AlertEngine;
let guard: RolloutGuard;

const weights = () => (store.get('models', 'chat')!.spec as ReturnType<typeof model>).versions.map((v) => v.weight);
const progress = () => (store.get('rollouts', 'chat-v2')!.spec as { progress?: { phase: string; currentStep: number; message: string } }).progress;
function traffic(v: 'v1' | 'v2', n: number, p: Partial<AccessRecord> = {}): void {
  signals.ingest(Array.from({ length: n }, () => accessRecord({ identity: 'spiffe://t/ns/a/sa/c', model: 'chat', version: v, latencyMs: 100, ...p })));
}
async function tick(seconds: number, each?: () => void): Promise<void> {
  for (let i = 0; i < seconds; i++) {
    each?.();
    await clock.advance(1000);
  }
}

beforeEach(() => {
  clock = createManualClock(T0);
  store = createSqliteStore({ path: ':memory:' });
  store.commit([{ op: 'create', kind: 'models', name: 'chat', spec: model(100, 0) }, { op: 'create', kind: 'rollouts', name: 'chat-v2', spec: plan }], { actor: 'alice' });
  signals = createSignalEngine({ clock, bucketMs: 1000, windowBuckets: 5 });
  alerts = createAlertEngine({ store: createAlertStore(store), dispatcher: createSinkDispatcher({ sinks: [] }), limits: { bucketMs: 1000, windowBuckets: 5, detectedSignals: DEFAULT_DETECTED_SIGNALS }, now: () => clock.now() });
  guard = createRolloutGuard({ store, alerts, now: () => clock.now() });
  signals.onEvaluate((e) => guard.onEvaluation(e));
  signals.start();
});

describe('rollout guard', () => {
  it('walks every step on schedule while the canary is healthy, then completes', async () => {
    guard.attach('chat-v2', { holdSeconds: 20, minRequests: 10 }, 'alice');
    expect(guard.get('chat-v2')).toMatchObject({ canary: 'v2', stable: 'v1', paused: false, phase: 'Pending' });
    await tick(1);
    expect(weights()).toEqual([90, 10]);
    expect(progress()).toMatchObject({ phase: 'Progressing', currentStep: 0 });
    // step 1 holds its own pauseSeconds (10 s), with healthy traffic on both versions
    const healthy = () => (traffic('v1', 18), traffic('v2', 2));
    await tick(9, healthy);
    expect(weights()).toEqual([90, 10]);
    await tick(2, healthy);
    expect(weights()).toEqual([50, 50]);
    // step 2 holds the guard's holdSeconds (20 s)
    await tick(18, healthy);
    expect(weights()).toEqual([50, 50]);
    await tick(2, healthy);
    expect(weights()).toEqual([0, 100]);
    expect(progress()).toMatchObject({ phase: 'Completed', currentStep: 2 });
    const audit = store.audit.query({ actor: GUARD_ACTOR, kind: 'models', order: 'asc' }).items;
    expect(audit.map((a) => (a.after as ReturnType<typeof model>).versions.map((v) => v.weight))).toEqual([[90, 10], [50, 50], [0, 100]]);
    expect(audit[1]!.reason).toMatch(/canary v2 within bounds for \d+ s/);
    expect(alerts.store.queryAlerts().items).toHaveLength(0);
  });

  it('holds a step while the canary has too few requests to judge', async () => {
    guard.attach('chat-v2', { holdSeconds: 5, minRequests: 50 }, 'alice');
    await tick(1);
    await tick(30, () => (traffic('v1', 10), traffic('v2', 1)));
    expect(weights()).toEqual([90, 10]);
    expect(guard.get('chat-v2')!.lastVerdict?.verdict).toBe('insufficient');
  });

  it.each([
    ['DLP findings', { dlp: { outcome: 'redact' as const, findings: { email: 1 } } }, 'dlp_finding_ratio', /DLP findings per request/],
    ['denials', { responseCode: 403, denied: 'rbac' as const }, 'denial_ratio', /denial ratio/],
    ['errors', { responseCode: 502 }, 'error_ratio', /error ratio/],
    ['latency', { latencyMs: 900 }, 'latency_ms_p95', /p95 latency/],
  ])('rolls back on %s: baseline weights through the store, audited, and a high alert', async (_, bad, signal, message) => {
    guard.attach('chat-v2', { holdSeconds: 60, minRequests: 10 }, 'alice');
    await tick(1);
    expect(weights()).toEqual([90, 10]);
    await tick(4, () => (traffic('v1', 20), traffic('v2', 3, bad)));
    expect(weights()).toEqual([100, 0]);
    expect(progress()).toMatchObject({ phase: 'Aborted', message: expect.stringMatching(message) });
    const [entry] = store.audit.query({ actor: GUARD_ACTOR, kind: 'models' }).items;
    expect(entry!.reason).toMatch(/rolled back automatically at step 1/);
    const [a] = alerts.store.queryAlerts({ rule: 'rollout-guard' }).items;
    expect(a).toMatchObject({ severity: 'high', dimension: 'rollout', key: 'chat-v2', signal, labels: { model: 'chat', canary: 'v2', stable: 'v1' } });
    // nothing more happens to an aborted rollout
    await tick(5, () => traffic('v2', 5, bad));
    expect(alerts.store.queryAlerts({ rule: 'rollout-guard' }).items).toHaveLength(1);
  });

  it('pause stops the automation (no advance, no rollback); resume restarts the hold; abort rolls back now', async () => {
    guard.attach('chat-v2', { holdSeconds: 5, minRequests: 5 }, 'alice');
    await tick(1);
    guard.pause('chat-v2', 'bob', 'investigating');
    await tick(10, () => (traffic('v1', 10), traffic('v2', 5, { responseCode: 500 })));
    expect(weights()).toEqual([90, 10]);
    await tick(6); // the bad traffic leaves the 5-s window
    guard.resume('chat-v2', 'bob');
    await tick(9, () => (traffic('v1', 10), traffic('v2', 5)));
    expect(weights()).toEqual([90, 10]); // the step's 10-s hold restarted at resume
    await tick(2, () => (traffic('v1', 10), traffic('v2', 5)));
    expect(weights()).toEqual([50, 50]);
    guard.abort('chat-v2', 'bob', 'manual stop');
    expect(weights()).toEqual([100, 0]);
    expect(progress()).toMatchObject({ phase: 'Aborted', message: 'aborted by bob: manual stop; baseline weights restored' });
    expect(() => guard.abort('chat-v2', 'bob')).toThrow(/already Aborted/);
    expect(store.audit.query({ kind: 'rollout-guards', order: 'asc' }).items.map((e) => [e.actor, e.action])).toEqual([['alice', 'attach'], ['bob', 'pause'], ['bob', 'resume']]);
    expect(store.audit.query({ kind: 'rollouts' }).items[0]).toMatchObject({ actor: 'bob', reason: expect.stringMatching(/aborted by bob/) });
  });

  it('a refused commit changes nothing, is logged, and is retried at the next evaluation', async () => {
    const own = createSqliteStore({ path: ':memory:' });
    own.commit([{ op: 'create', kind: 'models', name: 'chat', spec: model(100, 0) }, { op: 'create', kind: 'rollouts', name: 'chat-v2', spec: plan }], { actor: 'alice' });
    const ownSignals = createSignalEngine({ clock, bucketMs: 1000, windowBuckets: 5 });
    const errors: string[] = [];
    let refuse = true;
    const g = createRolloutGuard({
      store: own,
      alerts,
      now: () => clock.now(),
      log: { info() {}, warn() {}, error: (_, m) => errors.push(m) },
      validate: () => {
        if (refuse) throw new Error('translation refused');
      },
    });
    ownSignals.onEvaluate((e) => g.onEvaluation(e));
    ownSignals.start();
    g.attach('chat-v2', { holdSeconds: 5 }, 'alice');
    await clock.advance(1000);
    expect(errors[0]).toMatch(/translation refused; retrying at the next evaluation/);
    expect((own.get('models', 'chat')!.spec as ReturnType<typeof model>).versions.map((v) => v.weight)).toEqual([100, 0]);
    refuse = false;
    await clock.advance(1000);
    expect((own.get('models', 'chat')!.spec as ReturnType<typeof model>).versions.map((v) => v.weight)).toEqual([90, 10]);
    ownSignals.stop();
  });

  it('an operator advancing by hand: the guard takes the new step over and starts its hold', async () => {
    guard.attach('chat-v2', { holdSeconds: 5, minRequests: 5 }, 'alice');
    await tick(4);
    // at t = 4 s, what POST /v1/rollouts/chat-v2/advance commits
    const r = store.get('rollouts', 'chat-v2')!;
    const m = store.get('models', 'chat')!;
    store.commit(
      [
        { op: 'update', kind: 'rollouts', name: 'chat-v2', spec: { ...(r.spec as object), progress: { ...progress()!, currentStep: 1, phase: 'Progressing', updatedAt: new Date(clock.now()).toISOString() } }, ifMatch: r.resourceVersion },
        { op: 'update', kind: 'models', name: 'chat', spec: model(50, 50), ifMatch: m.resourceVersion },
      ],
      { actor: 'bob' },
    );
    await tick(4, () => (traffic('v1', 10), traffic('v2', 5)));
    expect(weights()).toEqual([50, 50]); // held 5 s from the operator's step, not from step 1
    await tick(2, () => (traffic('v1', 10), traffic('v2', 5)));
    expect(weights()).toEqual([0, 100]);
    expect(progress()).toMatchObject({ phase: 'Completed' });
  });

  it('refuses a bad guard naming the field', () => {
    expect(() => guard.attach('nope', {}, 'a')).toThrow(/rollout nope does not exist/);
    expect(() => guard.attach('chat-v2', { canary: 'v9' }, 'a')).toThrow(/\/canary: model chat has no version v9/);
    expect(() => parseGuardSpec({ holdSeconds: -1, bounds: { maxErrorRatioIncrease: 2, nope: 1 }, extra: true })).toThrow(/\/holdSeconds .*\/bounds\/maxErrorRatioIncrease|\/extra/);
    expect(() => parseGuardSpec({ canary: 'v1', stable: 'v1' })).toThrow(/must differ/);
    expect(() => guard.pause('chat-v2', 'a')).toThrow(/has no guard/);
  });
});

describe('judgeCanary', () => {
  it('a stable version without traffic is a zero baseline; latency is only judged against a measured stable p95', () => {
    const view = (values: Record<string, number>) => ({ dimension: 'version' as const, key: 'k', value: (s: string) => values[s] ?? NaN, anomaly: () => undefined, detectors: () => [] });
    const spec = parseGuardSpec({ minRequests: 10 });
    expect(judgeCanary(view({ requests: 20, error_ratio: 0.01 }), undefined, spec).verdict).toBe('healthy');
    expect(judgeCanary(view({ requests: 20, error_ratio: 0.03 }), undefined, spec).verdict).toBe('breach');
    expect(judgeCanary(view({ requests: 20, latency_ms_p95: 5000 }), undefined, spec).verdict).toBe('healthy');
    expect(judgeCanary(view({ requests: 5, error_ratio: 1 }), undefined, spec).verdict).toBe('insufficient');
  });
});
