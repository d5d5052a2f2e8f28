/** /v1/budgets, /v1/model-access-lists, the lease endpoint and the explain extension. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, chatModel, type TestApp } from './helper.js';

const A = 'spiffe://mesh.test/ns/team-a/sa/app';
const budget = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'team-a-hourly',
  principals: ['spiffe://mesh.test/ns/team-a/*'],
  models: ['gpt-4o*'],
  routes: ['chat'],
  tokens: 1000,
  window: 'hour',
  onExceed: 'clamp',
  costs: [{ model: 'gpt-4o*', input: 1, cachedInput: 0.5, output: 4 }],
  ...extra,
});

describe('budgets and model access lists through the REST API', () => {
  let t: TestApp;
  let now = new Date('2026-11-26T10:00:00Z');
  beforeAll(async () => {
    t = await buildTestApp({ trustDomain: 'mesh.test', now: () => now });
    expect((await t.call({ method: 'POST', url: '/v1/models', payload: chatModel() })).statusCode).toBe(201);
  });
  afterAll(async () => t.close());

  it('refuses a budget until a global DLP policy can carry it to the filter', async () => {
    const r = await t.call({ method: 'POST', url: '/v1/budgets', payload: budget() });
    expect(r.statusCode).toBe(400);
    expect(r.body).toMatch(/global DLP policy/);
    expect((await t.call({ method: 'POST', url: '/v1/filter-modules', payload: { name: 'default', source: { kind: 'local', path: '/etc/meshward/meshward.wasm' } } })).statusCode).toBe(201);
    expect((await t.call({ method: 'POST', url: '/v1/dlp-policies', payload: { name: 'global', scope: { kind: 'global' }, config: {} } })).statusCode).toBe(201);
  });

  it('validates: schema errors and model errors name the field', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [budget({ window: 'week' }), '/window', /./],
      [budget({ tokens: 0 }), '/tokens', /must be >= 1/],
      [budget({ principals: [] }), '/principals', /fewer than 1/],
      [budget({ principals: ['spiffe://mesh.test/ns/*/sa/x'] }), '/principals/0', /only allowed alone or as the last path segment/],
      [budget({ routes: ['nope'] }), '/routes/0', /does not exist/],
      [budget({ costs: [{ model: 'x', output: 1.0001 }] }), '/costs/0/output', /at most 3 decimals/],
      [budget({ onExceed: 'cut' }), '/onExceed', /./],
      [budget({ surprise: true }), '/surprise', /./],
    ];
    for (const [payload, field, reason] of cases) {
      const r = await t.call({ method: 'POST', url: '/v1/budgets', payload });
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
      const errors = r.json().errors as { field: string; reason: string }[];
      const issue = errors.find((e) => e.field === field);
      expect(issue, `${JSON.stringify(payload)} → ${r.body}`).toBeDefined();
      expect(issue!.reason).toMatch(reason);
    }
    const list = await t.call({ method: 'POST', url: '/v1/model-access-lists', payload: { name: 'x', principals: ['*'] } });
    expect(list.statusCode).toBe(400);
    expect(list.json().errors[0].field).toBe('/models');
  });

  it('needs a token; a viewer reads but cannot write nor lease; a proxy token only leases', async () => {
    expect((await t.call({ method: 'GET', url: '/v1/budgets', token: null })).statusCode).toBe(401);
    expect((await t.call({ method: 'POST', url: '/v1/budgets', payload: budget(), token: t.viewer })).statusCode).toBe(403);
    expect((await t.call({ method: 'GET', url: '/v1/budgets', token: t.viewer })).statusCode).toBe(200);
    const ask = { nodeId: 'envoy-9', leases: [{ budget: 'team-a-hourly', key: A, spent: 0, want: 1 }] };
    const viewerLease = await t.call({ method: 'POST', url: '/v1/budget-leases', token: t.viewer, payload: ask });
    expect(viewerLease.statusCode).toBe(403);
    expect(viewerLease.json().detail).toMatch(/role viewer; this operation needs a token with role admin or proxy/);
    expect((await t.call({ method: 'GET', url: '/v1/budgets', token: t.proxy })).statusCode).toBe(403);
    expect((await t.call({ method: 'POST', url: '/v1/budgets', payload: budget(), token: t.proxy })).statusCode).toBe(403);
  });

  it('creates, replaces with If-Match, and audits budgets and access lists', async () => {
    const created = await t.call({ method: 'POST', url: '/v1/budgets', payload: budget() });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ kind: 'Budget', name: 'team-a-hourly', tokens: 1000 });
    const etag = created.headers['etag'] as string;
    const updated = await t.call({ method: 'PUT', url: '/v1/budgets/team-a-hourly', headers: { 'if-match': etag }, payload: budget({ tokens: 2000 }) });
    expect(updated.statusCode).toBe(200);
    const acl = await t.call({ method: 'POST', url: '/v1/model-access-lists', payload: { name: 'team-a', principals: ['spiffe://mesh.test/ns/team-a/*'], models: ['gpt-4o*'] } });
    expect(acl.statusCode).toBe(201);
    const audit = await t.call({ method: 'GET', url: '/v1/audit?kind=budgets&name=team-a-hourly&order=asc' });
    expect(audit.json().items.map((e: { action: string; actor: string }) => [e.action, e.actor])).toEqual([
      ['create', 'test-admin'],
      ['update', 'test-admin'],
    ]);
  });

  it('explains: may this identity call this model now, and how much budget is left', async () => {
    const ask = (caller: string, model: string) =>
      t.call({ method: 'POST', url: '/v1/explain', token: t.viewer, payload: { caller, model, operation: 'infer' } });
    const r = await ask(A, 'gpt-4o-mini');
    expect(r.statusCode).toBe(200);
    expect(r.json().modelAccess).toEqual({ decision: 'allowed', matchingLists: ['team-a'], allowedBy: 'team-a', reason: "model 'gpt-4o-mini' is allowed by access list team-a" });
    expect(r.json().budgets).toEqual([]); // the budget is route-scoped to `chat`, and gpt-4o-mini resolves to no model
    const c = await ask(A, 'chat-model');
    expect(c.json().modelAccess.decision).toBe('denied');
    // Report some spend through the lease endpoint, then explain shows what is left.
    const lease = await t.call({ method: 'POST', url: '/v1/budget-leases', token: t.proxy, payload: { nodeId: 'envoy-1', leases: [{ budget: 'team-a-hourly', key: A, spent: 0, want: 300 }] } });
    expect(lease.statusCode).toBe(200);
    expect(lease.json().leases[0]).toMatchObject({ granted: 300, available: 1700, windowStartMs: Date.parse('2026-11-26T10:00:00Z') });
    await t.call({ method: 'POST', url: '/v1/budget-leases', token: t.proxy, payload: { nodeId: 'envoy-1', leases: [{ budget: 'team-a-hourly', key: A, spent: 250, want: 0 }] } });
    const b = await t.call({ method: 'POST', url: '/v1/explain', payload: { caller: A, model: 'gpt-4o', operation: 'infer' } });
    expect(b.json().modelAccess.decision).toBe('allowed');
    // gpt-4o is not a modelName of `chat`: route-scoped budgets do not apply; add an unscoped one.
    expect(b.json().budgets).toEqual([]);
    const usage = await t.call({ method: 'GET', url: `/v1/budgets/team-a-hourly/usage?key=${encodeURIComponent(A)}` });
    expect(usage.json()).toMatchObject({ tokens: 2000, granted: 300, spent: 250, remaining: 1750, available: 1700, nodes: 1 });
  });

  it('explain lists the applicable budgets with the remaining amount', async () => {
    expect((await t.call({ method: 'POST', url: '/v1/budgets', payload: { name: 'team-a-daily', principals: ['spiffe://mesh.test/ns/team-a/*'], tokens: 50000, window: 'day' } })).statusCode).toBe(201);
    await t.call({ method: 'POST', url: '/v1/budget-leases', token: t.proxy, payload: { nodeId: 'envoy-2', leases: [{ budget: 'team-a-daily', key: A, spent: 1200, want: 0 }] } });
    const r = await t.call({ method: 'POST', url: '/v1/explain', payload: { caller: A, model: 'chat-model', operation: 'infer' } });
    expect(r.json().budgets).toEqual([
      { budget: 'team-a-daily', window: 'day', windowStart: '2026-11-26T00:00:00.000Z', windowEnd: '2026-11-27T00:00:00.000Z', tokens: 50000, key: A, spent: 1200, remaining: 48800, onExceed: 'reject', dryRun: false },
    ]);
  });

  it('lease endpoint: validates the body and never grants more than the budget across nodes', async () => {
    const bad = await t.call({ method: 'POST', url: '/v1/budget-leases', payload: { nodeId: 'n', leases: [{ budget: 'team-a-daily', key: A, spent: -1, want: 1 }] } });
    expect(bad.statusCode).toBe(400);
    for (let i = 0; i < 20; i++) {
      const r = await t.call({ method: 'POST', url: '/v1/budget-leases', payload: { nodeId: `n${i % 5}`, leases: [{ budget: 'team-a-hourly', key: 'spiffe://mesh.test/ns/team-a/sa/other', spent: 0, want: 400 }] } });
      expect(r.statusCode).toBe(200);
    }
    const usage = await t.call({ method: 'GET', url: `/v1/budgets/team-a-hourly/usage?key=${encodeURIComponent('spiffe://mesh.test/ns/team-a/sa/other')}` });
    expect(usage.json().granted).toBe(2000);
    expect(usage.json().available).toBe(0);
    const unknown = await t.call({ method: 'POST', url: '/v1/budget-leases', payload: { nodeId: 'n', leases: [{ budget: 'nope', key: A, spent: 0, want: 1 }] } });
    expect(unknown.json().leases[0]).toMatchObject({ granted: 0, error: "budget 'nope' does not exist" });
    const metrics = await t.call({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/meshward_budget_lease_granted_tokens_total\{budget="team-a-hourly"\} \d+/);
    expect(metrics.body).toMatch(/meshward_budget_lease_requests_total\{budget="team-a-hourly",outcome="exhausted"\} \d+/);
    // A new window starts from zero.
    now = new Date('2026-11-26T11:00:00Z');
    const fresh = await t.call({ method: 'GET', url: `/v1/budgets/team-a-hourly/usage?key=${encodeURIComponent('spiffe://mesh.test/ns/team-a/sa/other')}` });
    expect(fresh.json()).toMatchObject({ granted: 0, spent: 0, available: 2000 });
  });

  it('the Istio WasmPlugin of the global policy carries budgets and access lists in its pluginConfig', async () => {
    const r = await t.call({ method: 'GET', url: '/v1/dlp-policies/global/wasm-plugin?url=oci://registry.test/meshward:1' });
    expect(r.statusCode).toBe(200);
    const cfg = r.json().spec.pluginConfig;
    expect(cfg.budgets.limits.map((l: { name: string }) => l.name)).toEqual(['team-a-daily', 'team-a-hourly']);
    expect(cfg.model_access.lists[0].name).toBe('team-a');
  });

  it('deleting the global DLP policy is refused while budgets need it', async () => {
    const r = await t.call({ method: 'DELETE', url: '/v1/dlp-policies/global' });
    expect(r.statusCode).toBe(409);
    expect(r.body).toMatch(/global DLP policy/);
  });
});
