import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDlpEngine, type DryRunHostFactory } from '../../../control-plane/src/api/dlp-engine.js';
import { createMemoryCaStore } from '../../../control-plane/src/ca/ca-store.js';
import { createMeshCa, type MeshCa } from '../../../control-plane/src/ca/mesh-ca.js';
import { workloadIdentity } from '../../../control-plane/src/ca/workload-identity.js';
import { createSqliteIssuedCertificateStore, createSqliteJoinTokenStore } from '../../../control-plane/src/store/sqlite-ca-stores.js';
import { createSqliteStore } from '../../../control-plane/src/store/sqlite-store.js';
import { createMulberry32 } from '../../../scripts/seeded-random.js';
import { createEnvoyHost } from '../../host/index.js';
import { buildTestApp, chatModel, gatewayWorkload, type TestApp } from './helper.js';

/**
 * Throws malformed JSON, wrong types, oversized bodies, unknown fields and random mutations of
 * valid bodies at every write route. Every answer must be a 2xx or a 4xx with a problem body —
 * never a 5xx — and a 4xx must leave the store exactly as it was (resources, revision, audit
 * trail, tokens, join tokens, certificates).
 */

const BODY_LIMIT = 64 * 1024;
const createHost: DryRunHostFactory = (o) => createEnvoyHost(o);
const WASM = new URL('../../../filter/build/meshward.wasm', import.meta.url).pathname;

const WEIRD: unknown[] = [null, 0, -1, 1.5, 1e308, -1e308, '', ' ', 'x'.repeat(5000), '\u0000', '💥', true, false, [], [null], {}, { $ref: '#' }, ['a', 1, {}], '2026-13-45T99:99:99Z', '../../etc/passwd', '<script>', 'spiffe://', '*'];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function paths(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

function mutate(sample: Json, rnd: () => number): Json {
  const copy = JSON.parse(JSON.stringify(sample)) as Json;
  const all = paths(copy).filter((p) => p.length > 0);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const op = Math.floor(rnd() * 4);
  if (all.length === 0 || op === 3) {
    // add an unknown field at some object level
    const objects = paths(copy).filter((p) => {
      let v: Json = copy;
      for (const s of p) v = (v as Record<string, Json>)[s as string]!;
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    });
    const target = objects.length === 0 ? [] : pick(objects);
    let v: Json = copy;
    for (const s of target) v = (v as Record<string, Json>)[s as string]!;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) (v as Record<string, Json>)[`unknown_${Math.floor(rnd() * 1000)}`] = pick(WEIRD) as Json;
    return copy;
  }
  const path = pick(all);
  let parent: Json = copy;
  for (const s of path.slice(0, -1)) parent = (parent as Record<string, Json>)[s as string]!;
  const key = path[path.length - 1]!;
  if (op === 0) {
    (parent as Record<string | number, Json>)[key] = pick(WEIRD) as Json;
  } else if (op === 1) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete (parent as Record<string, Json>)[key as string];
  } else {
    const cur = (parent as Record<string | number, Json>)[key];
    (parent as Record<string | number, Json>)[key] = typeof cur === 'number' ? String(cur) : typeof cur === 'string' ? (Number(cur) || 7) : [cur as Json];
  }
  return copy;
}

describe('fuzzing every write route', () => {
  let t: TestApp;
  let ca: MeshCa;
  let store: ReturnType<typeof createSqliteStore>;
  let certSerial = '';
  let joinTokenId = '';
  let viewerTokenId = '';

  beforeAll(async () => {
    store = createSqliteStore({ path: ':memory:' });
    ca = await createMeshCa({ trustDomain: 'mesh.test', store: createMemoryCaStore(), certificates: createSqliteIssuedCertificateStore(store), joinTokenStore: createSqliteJoinTokenStore(store) });
    t = await buildTestApp({ store, ca, bodyLimit: BODY_LIMIT, dlp: createDlpEngine({ wasm: WASM, createHost }) });
    const ok = async (method: string, url: string, payload: unknown) => {
      const r = await t.call({ method: method as 'POST', url, payload: payload as object });
      expect(r.statusCode, `${method} ${url}: ${r.body}`).toBeLessThan(300);
      return r.json();
    };
    await ok('POST', '/v1/workloads', gatewayWorkload('edge', 'ai'));
    await ok('POST', '/v1/models', chatModel());
    await ok('POST', '/v1/rollouts', { name: 'canary', model: 'chat', steps: [{ weights: { v1: 50, v2: 50 } }, { weights: { v1: 0, v2: 100 } }] });
    await ok('POST', '/v1/filter-modules', { name: 'default', source: { kind: 'local', path: '/etc/meshward/meshward.wasm' } });
    await ok('POST', '/v1/dlp-policies', { name: 'global', scope: { kind: 'global' }, config: { detectors: { email: { action: 'redact' } } } });
    await ok('POST', '/v1/rate-limits', { name: 'rl', model: 'chat', bucket: { maxTokens: 5, fillIntervalMs: 1000 } });
    await ok('POST', '/v1/authorization-policies', { name: 'p', rules: [{ from: ['*'], to: ['infer'] }] });
    await ok('POST', '/v1/budgets', { name: 'b', principals: ['spiffe://mesh.test/ns/ai/*'], tokens: 1000, window: 'hour' });
    await ok('POST', '/v1/model-access-lists', { name: 'acl', principals: ['*'], models: ['gpt-4o*'] });
    joinTokenId = (await ok('POST', '/v1/workloads/ai/edge/join-tokens', {})).joinToken.id;
    viewerTokenId = t.viewer.split('_')[1]!;
    await ca.currentCertificate(workloadIdentity('mesh.test', 'ai', 'edge'));
    certSerial = (await ca.listCertificates()).items[0]!.serialNumber;
  }, 60_000);
  afterAll(async () => {
    ca.close();
    await t.close();
  });

  /** Everything a write could touch. */
  const fingerprint = async (): Promise<string> =>
    JSON.stringify({
      revision: store.revision,
      resources: store.snapshot().resources,
      lastAudit: store.audit.query({ limit: 1 }).items[0]?.id,
      tokens: store.tokens.list({ limit: 1000 }).items,
      joinTokens: await ca.listJoinTokens(),
      certificates: (await ca.listCertificates({ limit: 1000 })).items,
      rotation: ca.rotationStatus(),
    });

  const samples = (): Record<string, { url: string; body: Json; headers?: Record<string, string> }> => ({
    'POST /v1/tokens': { url: '/v1/tokens', body: { name: 'fuzz-token', role: 'viewer' } },
    'DELETE /v1/tokens/:id': { url: `/v1/tokens/${viewerTokenId}`, body: null },
    'PUT /v1/mesh': { url: '/v1/mesh', body: { trustDomain: 'mesh.test', mtlsMode: 'STRICT' }, headers: { 'if-match': '*' } },
    'POST /v1/workloads': { url: '/v1/workloads', body: gatewayWorkload('fz', 'ai') as Json },
    'PUT /v1/workloads/:namespace/:name': { url: '/v1/workloads/ai/edge', body: gatewayWorkload('edge', 'ai') as Json, headers: { 'if-match': '*' } },
    'DELETE /v1/workloads/:namespace/:name': { url: '/v1/workloads/ai/edge', body: null },
    'POST /v1/workloads/:namespace/:name/join-tokens': { url: '/v1/workloads/ai/edge/join-tokens', body: { ttlSeconds: 600, description: 'x' } },
    'DELETE /v1/workloads/:namespace/:name/join-tokens/:id': { url: `/v1/workloads/ai/edge/join-tokens/${joinTokenId}`, body: null },
    'POST /v1/models': { url: '/v1/models', body: chatModel('fz') as Json },
    'PUT /v1/models/:name': { url: '/v1/models/chat', body: chatModel() as Json, headers: { 'if-match': '*' } },
    'DELETE /v1/models/:name': { url: '/v1/models/chat', body: null },
    'PUT /v1/models/:name/weights': { url: '/v1/models/chat/weights', body: { v1: 50, v2: 50 }, headers: { 'if-match': '*' } },
    'POST /v1/authorization-policies': { url: '/v1/authorization-policies', body: { name: 'fz', rules: [{ from: ['spiffe://mesh.test/ns/a/*'], to: ['infer'], models: ['chat'], when: [{ start: '08:00', end: '18:00' }] }] } },
    'PUT /v1/authorization-policies/:name': { url: '/v1/authorization-policies/p', body: { name: 'p', rules: [{ from: ['*'], to: ['infer'] }] }, headers: { 'if-match': '*' } },
    'DELETE /v1/authorization-policies/:name': { url: '/v1/authorization-policies/p', body: null },
    'POST /v1/rate-limits': { url: '/v1/rate-limits', body: { name: 'fz', model: 'chat', bucket: { maxTokens: 1, fillIntervalMs: 100 } } },
    'PUT /v1/rate-limits/:name': { url: '/v1/rate-limits/rl', body: { name: 'rl', model: 'chat', bucket: { maxTokens: 5, fillIntervalMs: 1000 } }, headers: { 'if-match': '*' } },
    'DELETE /v1/rate-limits/:name': { url: '/v1/rate-limits/rl', body: null },
    'POST /v1/filter-modules': { url: '/v1/filter-modules', body: { name: 'fz', source: { kind: 'remote', url: 'https://x.test/m.wasm' }, sha256: 'a'.repeat(64) } },
    'PUT /v1/filter-modules/:name': { url: '/v1/filter-modules/default', body: { name: 'default', source: { kind: 'local', path: '/m.wasm' } }, headers: { 'if-match': '*' } },
    'DELETE /v1/filter-modules/:name': { url: '/v1/filter-modules/default', body: null },
    'POST /v1/dlp-policies': { url: '/v1/dlp-policies', body: { name: 'fz', scope: { kind: 'model', model: 'chat' }, config: { mode: 'monitor' } } },
    'PUT /v1/dlp-policies/:name': { url: '/v1/dlp-policies/global', body: { name: 'global', scope: { kind: 'global' }, config: { detectors: { email: { action: 'redact' } } } }, headers: { 'if-match': '*' } },
    'DELETE /v1/dlp-policies/:name': { url: '/v1/dlp-policies/global', body: null },
    'POST /v1/dlp-policies/dry-run': { url: '/v1/dlp-policies/dry-run', body: { policy: 'global', payload: '{"messages":[{"role":"user","content":"a@b.co"}]}' } },
    'POST /v1/budgets': { url: '/v1/budgets', body: { name: 'fz', principals: ['spiffe://mesh.test/ns/a/sa/b'], models: ['gpt-4o*'], tokens: 500, window: 'minute', onExceed: 'clamp', costs: [{ model: 'gpt-4o*', input: 1, output: 4 }] } },
    'PUT /v1/budgets/:name': { url: '/v1/budgets/b', body: { name: 'b', principals: ['spiffe://mesh.test/ns/ai/*'], tokens: 2000, window: 'hour' }, headers: { 'if-match': '*' } },
    'DELETE /v1/budgets/:name': { url: '/v1/budgets/b', body: null },
    'POST /v1/model-access-lists': { url: '/v1/model-access-lists', body: { name: 'fz', principals: ['spiffe://mesh.test/ns/a/*'], models: ['chat-model'] } },
    'PUT /v1/model-access-lists/:name': { url: '/v1/model-access-lists/acl', body: { name: 'acl', principals: ['*'], models: ['gpt-4o*', 'chat-model'] }, headers: { 'if-match': '*' } },
    'DELETE /v1/model-access-lists/:name': { url: '/v1/model-access-lists/acl', body: null },
    'POST /v1/budget-leases': { url: '/v1/budget-leases', body: { nodeId: 'envoy-1', leases: [{ budget: 'b', key: 'spiffe://mesh.test/ns/ai/sa/x', spent: 0, want: 100 }] } },
    'POST /v1/rollouts': { url: '/v1/rollouts', body: { name: 'fz', model: 'chat', steps: [{ weights: { v1: 10, v2: 90 } }] } },
    'PUT /v1/rollouts/:name': { url: '/v1/rollouts/canary', body: { name: 'canary', model: 'chat', steps: [{ weights: { v1: 50, v2: 50 } }] }, headers: { 'if-match': '*' } },
    'DELETE /v1/rollouts/:name': { url: '/v1/rollouts/canary', body: null },
    'POST /v1/rollouts/:name/advance': { url: '/v1/rollouts/canary/advance', body: { reason: 'r' } },
    'POST /v1/rollouts/:name/abort': { url: '/v1/rollouts/canary/abort', body: { reason: 'r' } },
    'POST /v1/explain': { url: '/v1/explain', body: { caller: 'spiffe://mesh.test/ns/a/sa/b', model: 'chat', operation: 'infer' } },
    'POST /v1/certificates/:serialNumber/revoke': { url: `/v1/certificates/${certSerial}/revoke`, body: { reason: 'x' } },
    'POST /v1/ca/rotate': { url: '/v1/ca/rotate', body: { keyAlgorithm: 'ECDSA_P256' } },
  });

  it('has a sample for every write route', () => {
    const writes = t.app.meshwardRoutes.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.url}`);
    expect(writes.sort()).toEqual(Object.keys(samples()).sort());
  });

  it('never answers 5xx and never writes on a 4xx', async () => {
    const rnd = createMulberry32(0x5eed);
    const stats = { total: 0, ok: 0, client: 0 };
    const check = async (label: string, method: string, url: string, payload: string | undefined, headers: Record<string, string>) => {
      const before = await fingerprint();
      const r = await t.app.inject({ method: method as 'POST', url, headers: { authorization: `Bearer ${t.admin}`, ...headers }, ...(payload === undefined ? {} : { payload }) });
      stats.total++;
      expect(r.statusCode, `${label}: ${method} ${url} ${payload?.slice(0, 200)} → ${r.body.slice(0, 300)}`).toBeLessThan(500);
      if (r.statusCode >= 400) {
        stats.client++;
        expect(r.headers['content-type'], label).toMatch(/^application\/problem\+json/);
        const problem = r.json();
        expect(problem.status).toBe(r.statusCode);
        expect(typeof problem.detail).toBe('string');
        expect(await fingerprint(), `${label}: ${method} ${url} wrote despite ${r.statusCode}`).toBe(before);
      } else stats.ok++;
      return r.statusCode;
    };
    const json = { 'content-type': 'application/json' };
    for (const [key, s] of Object.entries(samples())) {
      const method = key.split(' ')[0]!;
      const h = { ...(s.headers ?? {}) };
      if (s.body === null) {
        // DELETE: garbage bodies and bad preconditions
        await check('delete-if-match', method, s.url, undefined, { 'if-match': 'garbage' });
        await check('delete-stale', method, s.url, undefined, { 'if-match': '"999999"' });
        continue;
      }
      const raw = ['{', '{"a":}', 'nul', '\u0000', '[1,2', '{"name":"x",}', '', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', JSON.stringify('str'), '123', 'null', '[]', 'true'];
      for (const body of raw) await check('malformed', method, s.url, body, { ...json, ...h });
      await check('oversized', method, s.url, JSON.stringify({ ...(s.body as object), pad: 'x'.repeat(BODY_LIMIT) }), { ...json, ...h });
      await check('text/plain', method, s.url, JSON.stringify(s.body), { 'content-type': 'text/plain', ...h });
      await check('xml', method, s.url, '<a/>', { 'content-type': 'application/xml', ...h });
      await check('unknown-field', method, s.url, JSON.stringify({ ...(s.body as object), definitelyNotAField: 1 }), { ...json, ...h });
      let deep: Json = {};
      for (let i = 0; i < 500; i++) deep = { a: deep };
      await check('deep', method, s.url, JSON.stringify({ ...(s.body as object), nested: deep }), { ...json, ...h });
      for (let i = 0; i < 25; i++) {
        const m = mutate(s.body, rnd);
        await check('mutation', method, s.url, JSON.stringify(m), { ...json, ...h });
      }
      if (h['if-match'] !== undefined) {
        await check('no-if-match', method, s.url, JSON.stringify(s.body), json);
        await check('stale-if-match', method, s.url, JSON.stringify(s.body), { ...json, 'if-match': '"999999"' });
      }
    }
    expect(stats.total).toBeGreaterThan(1000);
    expect(stats.client).toBeGreaterThan(stats.total * 0.8);
  }, 120_000);
});
