/**
 * The closed loop's REST routes through inject(): alert rules (validation, ETag/If-Match, audit),
 * alerts and signals, reports (JSON and HTML), rollout guards with pause/resume; auth per role;
 * 503 without a closed loop.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../../control-plane/src/ca/clock.js';
import { createSqliteStore, type SqliteStore } from '../../../control-plane/src/store/sqlite-store.js';
import { createClosedLoop, type ClosedLoop } from '../../../control-plane/src/telemetry/closed-loop.js';
import { accessRecord } from '../../../control-plane/src/telemetry/access-record.js';
import { buildTestApp, chatModel, gatewayWorkload, type TestApp } from '../api/helper.js';

const T0 = Date.parse('2026-03-02T10:00:00Z');
const rule = { name: 'caller-denials', signal: 'denials', dimension: 'identity', condition: { kind: 'threshold', op: '>', value: 2 }, severity: 'high' };

let t: TestApp | undefined;
let loop: ClosedLoop | undefined;
afterEach(async () => {
  await loop?.stop();
  await t?.close();
  loop = undefined;
  t = undefined;
});

async function setup(): Promise<{ t: TestApp; loop: ClosedLoop; clock: ManualClock; store: SqliteStore }> {
  const clock = createManualClock(T0);
  const store = createSqliteStore({ path: ':memory:', now: () => new Date(clock.now()) });
  loop = createClosedLoop({ store, clock, signals: { bucketMs: 1000, windowBuckets: 10 } });
  await loop.start();
  t = await buildTestApp({ store, closedLoop: loop, now: () => new Date(clock.now()), metricsRegistries: [loop.registry] });
  return { t, loop, clock, store };
}

describe('closed-loop routes', () => {
  it('manage alert rules: create, read with ETag, replace with If-Match, delete; validation names the field; audited', async () => {
    const { t, store } = await setup();
    const created = await t.call({ method: 'POST', url: '/v1/alert-rules', payload: rule });
    expect(created.statusCode).toBe(201);
    expect(created.headers.etag).toBe('"1"');
    expect(created.json()).toMatchObject({ rule: { ...rule, match: '*', for: 1, enabled: true }, version: 1, updatedBy: 'test-admin' });
    expect((await t.call({ method: 'POST', url: '/v1/alert-rules', payload: rule })).statusCode).toBe(409);
    const got = await t.call({ method: 'GET', url: '/v1/alert-rules/caller-denials', token: t.viewer });
    expect(got.statusCode).toBe(200);
    expect(got.headers.etag).toBe('"1"');
    const changed = { ...rule, severity: 'critical' };
    expect((await t.call({ method: 'PUT', url: '/v1/alert-rules/caller-denials', payload: changed })).statusCode).toBe(428);
    expect((await t.call({ method: 'PUT', url: '/v1/alert-rules/caller-denials', payload: changed, headers: { 'if-match': '"7"' } })).statusCode).toBe(412);
    const put = await t.call({ method: 'PUT', url: '/v1/alert-rules/caller-denials', payload: changed, headers: { 'if-match': '"1"' } });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ version: 2, rule: { severity: 'critical' } });
    // semantic validation from the signal engine, as a problem naming the field
    const bad = await t.call({ method: 'POST', url: '/v1/alert-rules', payload: { ...rule, name: 'w', windowSeconds: 1.5 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(bad.json().errors).toEqual([{ in: 'body', field: '/windowSeconds', reason: expect.stringMatching(/multiple of the signal bucket/) }]);
    const schemaBad = await t.call({ method: 'POST', url: '/v1/alert-rules', payload: { ...rule, name: 'x', severity: 'urgent' } });
    expect(schemaBad.statusCode).toBe(400);
    const anomalyBad = await t.call({ method: 'POST', url: '/v1/alert-rules', payload: { ...rule, name: 'y', signal: 'requests', condition: { kind: 'anomaly' } } });
    expect(anomalyBad.json().errors[0]).toMatchObject({ field: '/signal', reason: expect.stringMatching(/no baseline detector/) });
    expect((await t.call({ method: 'PUT', url: '/v1/alert-rules/other', payload: rule })).json().errors[0]).toMatchObject({ field: '/name' });
    // viewers read, only admins write
    expect((await t.call({ method: 'POST', url: '/v1/alert-rules', payload: { ...rule, name: 'z' }, token: t.viewer })).statusCode).toBe(403);
    expect((await t.call({ method: 'GET', url: '/v1/alert-rules', token: null })).statusCode).toBe(401);
    expect((await t.call({ method: 'DELETE', url: '/v1/alert-rules/caller-denials', headers: { 'if-match': '"1"' } })).statusCode).toBe(412);
    expect((await t.call({ method: 'DELETE', url: '/v1/alert-rules/caller-denials', headers: { 'if-match': '"2"' } })).statusCode).toBe(204);
    expect((await t.call({ method: 'GET', url: '/v1/alert-rules/caller-denials' })).statusCode).toBe(404);
    expect(store.audit.query({ kind: 'alert-rules', order: 'asc' }).items.map((e) => e.action)).toEqual(['create', 'update', 'delete']);
  });

  it('serve alerts (filtered, paginated), manual resolve, and signals', async () => {
    const { t, loop, clock } = await setup();
    await t.call({ method: 'POST', url: '/v1/alert-rules', payload: rule });
    loop.ingest(Array.from({ length: 4 }, () => accessRecord({ identity: 'spiffe://meshward.local/ns/a/sa/x', model: 'chat', version: 'v1', responseCode: 403, denied: 'rbac' })));
    await clock.advance(1000);
    const list = await t.call({ method: 'GET', url: '/v1/alerts?state=firing', token: t.viewer });
    expect(list.statusCode).toBe(200);
    const [a] = list.json().items;
    expect(a).toMatchObject({ rule: 'caller-denials', state: 'firing', severity: 'high', key: 'spiffe://meshward.local/ns/a/sa/x', value: 4, threshold: 2 });
    expect((await t.call({ method: 'GET', url: `/v1/alerts/${a.id}` })).json()).toMatchObject({ id: a.id });
    expect((await t.call({ method: 'GET', url: '/v1/alerts/999' })).statusCode).toBe(404);
    expect((await t.call({ method: 'GET', url: '/v1/alerts?state=open' })).statusCode).toBe(400);
    const resolved = await t.call({ method: 'POST', url: `/v1/alerts/${a.id}/resolve` });
    expect(resolved.json()).toMatchObject({ state: 'resolved', resolvedAt: new Date(T0 + 1000).toISOString() });
    expect((await t.call({ method: 'POST', url: `/v1/alerts/${a.id}/resolve` })).statusCode).toBe(409);
    const metrics = await t.call({ method: 'GET', url: '/metrics', token: t.viewer });
    expect(metrics.body).toMatch(/meshward_alerts_fired_total\{rule="caller-denials",severity="high"\} 1/);
    expect(metrics.body).toMatch(/meshward_telemetry_dropped_entries_total 0/);
    expect(metrics.body).toMatch(/meshward_signal_series\{dimension="identity"\} 1/);
    const signals = await t.call({ method: 'GET', url: '/v1/signals?dimension=version', token: t.viewer });
    expect(signals.json()).toMatchObject({ bucketSeconds: 1, windowSeconds: 10, items: [{ dimension: 'version', key: 'chat|v1', values: { rbac_denials: 4, error_ratio: 0 } }] });
  });

  it('serve the report as JSON and as HTML', async () => {
    const { t, loop, clock } = await setup();
    loop.ingest([accessRecord({ identity: 'spiffe://meshward.local/ns/a/sa/x', model: 'chat', version: 'v1', startMs: T0 + 10, dlp: { outcome: 'block', findings: { aws_access_key: 1 } } })]);
    await clock.advance(60_000);
    const json = await t.call({ method: 'GET', url: `/v1/reports?since=${new Date(T0).toISOString()}`, token: t.viewer });
    expect(json.statusCode).toBe(200);
    expect(json.json()).toMatchObject({ totals: { requests: 1, dlpBlocked: 1 }, dataProtection: [{ identity: 'spiffe://meshward.local/ns/a/sa/x', model: 'chat' }] });
    const html = await t.call({ method: 'GET', url: `/v1/reports?since=${new Date(T0).toISOString()}&format=html`, token: t.viewer });
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html.body).toContain('Redacted or blocked data');
    const bad = await t.call({ method: 'GET', url: '/v1/reports?since=2026-03-03T00:00:00Z&until=2026-03-02T00:00:00Z' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0]).toMatchObject({ in: 'querystring', field: 'since' });
  });

  it('attach a guard to a rollout, pause and resume it, audited', async () => {
    const { t, store } = await setup();
    await t.call({ method: 'POST', url: '/v1/workloads', payload: gatewayWorkload() });
    expect((await t.call({ method: 'POST', url: '/v1/models', payload: chatModel() })).statusCode).toBe(201);
    expect((await t.call({ method: 'POST', url: '/v1/rollouts', payload: { name: 'chat-v2', model: 'chat', steps: [{ weights: { v1: 50, v2: 50 } }, { weights: { v1: 0, v2: 100 } }] } })).statusCode).toBe(201);
    expect((await t.call({ method: 'PUT', url: '/v1/rollouts/nope/guard', payload: {} })).statusCode).toBe(404);
    const bad = await t.call({ method: 'PUT', url: '/v1/rollouts/chat-v2/guard', payload: { canary: 'v9' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0]).toMatchObject({ field: '/canary' });
    const put = await t.call({ method: 'PUT', url: '/v1/rollouts/chat-v2/guard', payload: { holdSeconds: 60, bounds: { maxErrorRatioIncrease: 0.01 } } });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ rollout: 'chat-v2', canary: 'v2', stable: 'v1', paused: false, phase: 'Pending', spec: { holdSeconds: 60, minRequests: 20, bounds: { maxErrorRatioIncrease: 0.01, maxLatencyP95Ratio: 1.5 } } });
    expect((await t.call({ method: 'POST', url: '/v1/rollouts/chat-v2/pause', payload: { reason: 'freeze' } })).json()).toMatchObject({ paused: true });
    expect((await t.call({ method: 'POST', url: '/v1/rollouts/chat-v2/resume' })).json()).toMatchObject({ paused: false });
    expect((await t.call({ method: 'GET', url: '/v1/rollout-guards', token: t.viewer })).json().items).toHaveLength(1);
    expect((await t.call({ method: 'POST', url: '/v1/rollouts/chat-v2/pause', token: t.viewer })).statusCode).toBe(403);
    expect((await t.call({ method: 'DELETE', url: '/v1/rollouts/chat-v2/guard' })).statusCode).toBe(204);
    expect((await t.call({ method: 'GET', url: '/v1/rollouts/chat-v2/guard' })).statusCode).toBe(404);
    expect(store.audit.query({ kind: 'rollout-guards', order: 'asc' }).items.map((e) => [e.action, e.reason ?? null])).toEqual([['attach', null], ['pause', 'freeze'], ['resume', null], ['detach', null]]);
  });

  it('are only registered with a closed loop; then they are in the OpenAPI document and need a token', async () => {
    t = await buildTestApp();
    expect((await t.call({ method: 'GET', url: '/v1/alerts' })).statusCode).toBe(404);
    expect(t.app.meshwardRoutes.some((x) => x.url.startsWith('/v1/alert'))).toBe(false);
    await t.close();
    const { t: withLoop } = await setup();
    const doc = (await withLoop.call({ method: 'GET', url: '/openapi.json' })).json();
    for (const p of ['/v1/alert-rules', '/v1/alert-rules/{name}', '/v1/alerts', '/v1/alerts/{id}/resolve', '/v1/signals', '/v1/reports', '/v1/rollouts/{name}/guard', '/v1/rollouts/{name}/pause']) expect(doc.paths[p], p).toBeDefined();
    const mine = withLoop.app.meshwardRoutes.filter((x) => /^\/v1\/(alert|signals|reports|rollout-guards)|\/guard$|\/pause$|\/resume$/.test(x.url));
    expect(mine.length).toBe(16);
    for (const r of mine) {
      expect(r.access, `${r.method} ${r.url}`).toBe(r.method === 'GET' ? 'viewer' : 'admin');
      const res = await withLoop.call({ method: r.method as 'GET', url: r.url.replace(':name', 'x').replace(':id', '1'), token: null });
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
    }
  });
});
