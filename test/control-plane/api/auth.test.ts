import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meshwardApi } from '../../../control-plane/src/api/app.js';
import { issueApiToken } from '../../../control-plane/src/api/api-token.js';
import { bootstrapAdminToken } from '../../../control-plane/src/api/bootstrap.js';
import { createStore } from '../../../control-plane/src/store/store.js';
import { buildTestApp, type TestApp } from './helper.js';

/** Fills route parameters with plausible values so the request reaches auth, not a 404 of the router. */
function concrete(url: string): string {
  return url
    .replace(':namespace', 'ai')
    .replace(':nodeId', 'node-1')
    .replace(':id', '0123456789abcdef')
    .replace(':name', 'x')
    .replace(/\*$/, 'index.html');
}

const bodyFor = (method: string) => (method === 'GET' || method === 'DELETE' ? {} : { payload: {} });

describe('API authentication and authorization', () => {
  const routes: { method: string; url: string; access: string }[] = [];
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dlpConfigSchema: false });
    routes.push(...t.app.meshwardRoutes);
  });
  afterAll(async () => t.close());

  it('registers the routes we expect, each with a declared access level', () => {
    expect(routes.length).toBeGreaterThan(40);
    for (const r of routes) expect(["public", "viewer", "proxy", "admin"], `${r.method} ${r.url} ${r.access}`).toContain(r.access);
    const publicRoutes = routes.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.url}`);
    expect(publicRoutes.sort()).toEqual(['GET /healthz', 'GET /readyz']);
    // every non-GET route is admin-only except the read-only POSTs and what proxies call
    const readOnlyPosts = routes.filter((r) => r.method !== 'GET' && r.access === 'viewer').map((r) => `${r.method} ${r.url}`);
    expect(readOnlyPosts.sort()).toEqual(['POST /v1/dlp-policies/dry-run', 'POST /v1/explain']);
    // the only route a proxy token reaches: the budget lease endpoint
    const proxyRoutes = routes.filter((r) => r.access === 'proxy').map((r) => `${r.method} ${r.url}`);
    expect(proxyRoutes).toEqual(['POST /v1/budget-leases']);
  });

  it('answers 401 with a problem body and WWW-Authenticate on every non-public route without a token', async () => {
    for (const r of routes.filter((x) => x.access !== 'public')) {
      const res = await t.call({ method: r.method as 'GET', url: concrete(r.url), token: null, ...bodyFor(r.method) });
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
      expect(res.headers["content-type"], `${r.method} ${r.url}`).toMatch(/^application\/problem\+json/);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="meshward"/);
      expect(res.json()).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    }
  });

  it('answers 403 to a viewer token on every admin route', async () => {
    for (const r of routes.filter((x) => x.access === 'admin')) {
      const res = await t.call({ method: r.method as 'GET', url: concrete(r.url), token: t.viewer, ...bodyFor(r.method) });
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(403);
      expect(res.json()).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    }
  });

  it('answers 403 to a viewer token on every proxy route (leasing budget changes state)', async () => {
    const proxyRoutes = routes.filter((x) => x.access === 'proxy');
    expect(proxyRoutes.length).toBeGreaterThan(0);
    for (const r of proxyRoutes) {
      const res = await t.call({ method: r.method as 'GET', url: concrete(r.url), token: t.viewer, ...bodyFor(r.method) });
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(403);
      expect(res.json()).toMatchObject({ status: 403, code: 'FORBIDDEN', detail: 'token "test-viewer" has role viewer; this operation needs a token with role admin or proxy' });
    }
  });

  it('answers 403 to a proxy token on every route but the proxy ones, naming the token, its role and what is needed', async () => {
    const others = routes.filter((x) => x.access === 'viewer' || x.access === 'admin');
    expect(others.length).toBe(routes.length - 3); // all but /healthz, /readyz and POST /v1/budget-leases
    for (const r of others) {
      const res = await t.call({ method: r.method as 'GET', url: concrete(r.url), token: t.proxy, ...bodyFor(r.method) });
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(403);
      expect(res.headers['content-type'], `${r.method} ${r.url}`).toMatch(/^application\/problem\+json/);
      const needs = r.access === 'admin' ? 'admin' : 'admin or viewer';
      expect(res.json(), `${r.method} ${r.url}`).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      expect(res.json().detail, `${r.method} ${r.url}`).toBe(
        `token "test-proxy" has role proxy; this operation needs a token with role ${needs} (proxy tokens may only call the endpoints proxies use, such as POST /v1/budget-leases)`,
      );
    }
    // what is not a route at all tells a proxy token nothing either (no 404 to probe paths with)
    expect((await t.call({ method: 'GET', url: '/v1/nope', token: t.proxy })).statusCode).toBe(403);
    // the public routes still answer
    expect((await t.call({ method: 'GET', url: '/healthz', token: t.proxy })).statusCode).toBe(200);
  });

  it('lets proxy and admin tokens reach every proxy route (no 401/403); a proxy token takes a lease', async () => {
    for (const r of routes.filter((x) => x.access === 'proxy')) {
      for (const token of [t.proxy, t.admin]) {
        const res = await t.call({ method: r.method as 'GET', url: concrete(r.url), token, ...bodyFor(r.method) });
        expect([401, 403], `${r.method} ${r.url} → ${res.statusCode}`).not.toContain(res.statusCode);
      }
    }
    // a real grant, on an app of its own (a budget needs a global DLP policy to reach the filter)
    // (at the start of a window: an in-memory lease service grants nothing in windows it did not see begin)
    const own = await buildTestApp({ dlpConfigSchema: false, now: () => new Date('2026-11-26T10:00:00Z') });
    try {
      for (const [url, payload] of [
        ['/v1/filter-modules', { name: 'default', source: { kind: 'local', path: '/etc/meshward/meshward.wasm' } }],
        ['/v1/dlp-policies', { name: 'global', scope: { kind: 'global' }, config: {} }],
        ['/v1/budgets', { name: 'auth-b', principals: ['*'], tokens: 1000, window: 'hour' }],
      ] as const) {
        const r = await own.call({ method: 'POST', url, payload });
        expect(r.statusCode, `${url}: ${r.body}`).toBe(201);
      }
      const ask = { nodeId: 'envoy-1', leases: [{ budget: 'auth-b', key: 'spiffe://meshward.local/ns/a/sa/b', spent: 0, want: 100 }] };
      const lease = await own.call({ method: 'POST', url: '/v1/budget-leases', token: own.proxy, payload: ask });
      expect(lease.statusCode, lease.body).toBe(200);
      expect(lease.json().leases[0]).toMatchObject({ budget: 'auth-b', granted: 100 });
      // ...and nothing else with it, not even reading the budget it leases from
      expect((await own.call({ method: 'GET', url: '/v1/budgets/auth-b', token: own.proxy })).statusCode).toBe(403);
      expect((await own.call({ method: 'POST', url: '/v1/budget-leases', token: own.viewer, payload: ask })).statusCode).toBe(403);
    } finally {
      await own.close();
    }
  });

  it('lets a viewer reach every viewer route (no 401/403)', async () => {
    for (const r of routes.filter((x) => x.access === 'viewer')) {
      const res = await t.call({ method: r.method as 'GET', url: concrete(r.url), token: t.viewer, ...bodyFor(r.method) });
      expect([401, 403], `${r.method} ${r.url} → ${res.statusCode}`).not.toContain(res.statusCode);
    }
  });

  it('serves /healthz and /readyz without a token, and 401 for unknown paths without one', async () => {
    expect((await t.call({ method: 'GET', url: '/healthz', token: null })).json()).toEqual({ status: 'ok' });
    expect((await t.call({ method: 'GET', url: '/readyz', token: null })).json()).toEqual({ status: 'ready' });
    expect((await t.call({ method: 'GET', url: '/v1/nope', token: null })).statusCode).toBe(401);
    const nf = await t.call({ method: 'GET', url: '/v1/nope' });
    expect(nf.statusCode).toBe(404);
    expect(nf.headers['content-type']).toMatch(/problem\+json/);
  });

  it('refuses malformed, unknown, forged, expired and revoked tokens', async () => {
    const bad = async (authorization: string, reason: RegExp) => {
      const res = await t.app.inject({ method: 'GET', url: '/v1/workloads', headers: { authorization } });
      expect(res.statusCode, authorization).toBe(401);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
      expect(res.json().detail).toMatch(reason);
    };
    await bad('Basic dXNlcjpwYXNz', /not "Bearer/);
    await bad('Bearer ', /not "Bearer/);
    await bad("Bearer nonsense", /not "Bearer/);
    await bad(`Bearer mw_0000000000000000_${'A'.repeat(43)}`, /not valid/);
    // right id, wrong secret
    const id = t.admin.split('_')[1]!;
    await bad(`Bearer mw_${id}_${'B'.repeat(43)}`, /not valid/);
    const expired = issueApiToken(t.store, { name: 'old', role: 'admin', actor: 'test', expiresAt: new Date(Date.now() - 1000).toISOString() });
    await bad(`Bearer ${expired.token}`, /expired/);
    const revoked = issueApiToken(t.store, { name: 'gone', role: 'admin', actor: 'test' });
    t.store.tokens.revoke(revoked.record.id, 'test');
    await bad(`Bearer ${revoked.token}`, /revoked/);
    // case-insensitive scheme is fine
    const ok = await t.app.inject({ method: 'GET', url: '/v1/workloads', headers: { authorization: `bearer ${t.viewer}` } });
    expect(ok.statusCode).toBe(200);
  });

  it('creates tokens through the API (shown once, stored hashed), lists and revokes them, with audit entries', async () => {
    const created = await t.call({ method: 'POST', url: '/v1/tokens', payload: { name: 'ci-bot', role: 'viewer' } });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { token, apiToken } = created.json() as { token: string; apiToken: { id: string; name: string; role: string } };
    expect(token).toMatch(/^mw_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(apiToken).toMatchObject({ name: 'ci-bot', role: 'viewer', createdBy: 'test-admin' });
    // the secret is nowhere in the store
    const stored = t.store.tokens.get(apiToken.id)!;
    expect(JSON.stringify(stored)).not.toContain(token.slice(20));
    expect((await t.call({ method: 'GET', url: '/v1/workloads', token })).statusCode).toBe(200);
    expect((await t.call({ method: 'POST', url: '/v1/tokens', token, payload: { name: 'x', role: 'admin' } })).statusCode).toBe(403);
    const list = await t.call({ method: 'GET', url: '/v1/tokens' });
    expect(list.json().items.some((i: { name: string }) => i.name === 'ci-bot')).toBe(true);
    expect(list.body).not.toContain('secretHash');
    const dup = await t.call({ method: 'POST', url: '/v1/tokens', payload: { name: 'ci-bot', role: 'viewer' } });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().errors[0]).toMatchObject({ field: '/name' });
    const past = await t.call({ method: 'POST', url: '/v1/tokens', payload: { name: 'p', role: 'viewer', expiresAt: '2000-01-01T00:00:00Z' } });
    expect(past.statusCode).toBe(400);
    expect(past.json().errors[0]).toMatchObject({ field: '/expiresAt' });
    const badRole = await t.call({ method: 'POST', url: '/v1/tokens', payload: { name: 'p', role: 'root' } });
    expect(badRole.statusCode).toBe(400);
    expect(badRole.json().errors[0]).toMatchObject({ field: '/role', reason: 'must be one of "admin", "viewer", "proxy"' });
    // admins mint proxy tokens for Envoys meshward does not start (e.g. Istio's WasmPlugin)
    const minted = await t.call({ method: 'POST', url: '/v1/tokens', payload: { name: 'istio-proxies', role: 'proxy' } });
    expect(minted.statusCode, minted.body).toBe(201);
    expect(minted.json().apiToken).toMatchObject({ name: 'istio-proxies', role: 'proxy' });
    const istio = minted.json().token as string;
    expect((await t.call({ method: 'POST', url: '/v1/budget-leases', token: istio, payload: { nodeId: 'istio-1', leases: [{ budget: 'nope', key: '*', spent: 0, want: 1 }] } })).statusCode).toBe(200);
    expect((await t.call({ method: 'GET', url: '/v1/workloads', token: istio })).statusCode).toBe(403);
    expect((await t.call({ method: 'GET', url: `/v1/tokens/${minted.json().apiToken.id}` })).json()).toMatchObject({ role: 'proxy' });
    const del = await t.call({ method: 'DELETE', url: `/v1/tokens/${apiToken.id}` });
    expect(del.statusCode).toBe(200);
    expect(del.json().revokedAt).toBeDefined();
    expect((await t.call({ method: 'GET', url: '/v1/workloads', token })).statusCode).toBe(401);
    const self = await t.call({ method: 'DELETE', url: `/v1/tokens/${t.admin.split('_')[1]}` });
    expect(self.statusCode).toBe(409);
    expect((await t.call({ method: 'GET', url: '/v1/tokens/ffffffffffffffff' })).statusCode).toBe(404);
    const audit = await t.call({ method: 'GET', url: '/v1/audit?kind=api-tokens&name=ci-bot&order=asc' });
    expect(audit.json().items.map((e: { action: string; actor: string }) => [e.action, e.actor])).toEqual([
      ['create', 'test-admin'],
      ['revoke', 'test-admin'],
    ]);
  });
});

describe('bootstrap admin token', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshward-boot-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates one admin token on first start, writes it 0600, and changes nothing later', async () => {
    const dataDir = join(dir, 'data');
    const store = createStore({ path: ':memory:' });
    const first = bootstrapAdminToken(store, dataDir);
    expect(first).toMatchObject({ created: true, path: join(dataDir, 'admin-token') });
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const token = readFileSync(first.path, 'utf8').trim();
    const second = bootstrapAdminToken(store, dataDir);
    expect(second.created).toBe(false);
    expect(readFileSync(first.path, 'utf8').trim()).toBe(token);
    const app = Fastify();
    await app.register(meshwardApi, { store, dlpConfigSchema: false });
    const res = await app.inject({ method: 'POST', url: '/v1/tokens', headers: { authorization: `Bearer ${token}` }, payload: { name: 'ops', role: 'admin' } });
    expect(res.statusCode).toBe(201);
    expect(store.tokens.get(first.tokenId!)!.name).toBe('bootstrap-admin');
    await app.close();
    store.close();
  });

  it('replaces a stale, world-readable file from an earlier database with a 0600 one', () => {
    const dataDir = join(dir, 'stale');
    const store = createStore({ path: ':memory:' });
    bootstrapAdminToken(store, dataDir);
    writeFileSync(join(dataDir, 'admin-token'), 'old\n', { mode: 0o644 });
    const fresh = createStore({ path: ':memory:' });
    const r = bootstrapAdminToken(fresh, dataDir);
    expect(r.created).toBe(true);
    expect(statSync(r.path).mode & 0o777).toBe(0o600);
    expect(readFileSync(r.path, 'utf8')).toMatch(/^mw_/);
    store.close();
    fresh.close();
  });
});
