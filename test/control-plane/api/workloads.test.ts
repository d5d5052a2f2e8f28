import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMeshCa, type MeshCa } from '../../../control-plane/src/ca/mesh-ca.js';
import { createMemoryCaStore } from '../../../control-plane/src/ca/ca-store.js';
import { createSqliteIssuedCertificateStore, createSqliteJoinTokenStore } from '../../../control-plane/src/store/sqlite-ca-stores.js';
import { createSqliteStore } from '../../../control-plane/src/store/sqlite-store.js';
import { buildTestApp, gatewayWorkload, type TestApp } from './helper.js';

describe('/v1/workloads', () => {
  let t: TestApp;
  let ca: MeshCa;
  beforeAll(async () => {
    const store = createSqliteStore({ path: ':memory:' });
    ca = await createMeshCa({
      trustDomain: 'mesh.test',
      store: createMemoryCaStore(),
      joinTokenStore: createSqliteJoinTokenStore(store),
      certificates: createSqliteIssuedCertificateStore(store),
    });
    t = await buildTestApp({ store, ca, dlpConfigSchema: false });
  });
  afterAll(async () => {
    ca.close();
    await t.close();
  });

  it('creates a workload: 201, Location, ETag, config version, derived SPIFFE ID and mode', async () => {
    const before = t.store.revision;
    const r = await t.call({ method: 'POST', url: '/v1/workloads', payload: gatewayWorkload('edge', 'ai') });
    expect(r.statusCode).toBe(201);
    expect(r.headers['location']).toBe('/v1/workloads/ai/edge');
    expect(r.headers['etag']).toBe(`"${before + 1}"`);
    expect(r.headers['meshward-config-version']).toBe(String(before + 1));
    expect(r.json()).toMatchObject({
      kind: 'Workload',
      name: 'edge',
      namespace: 'ai',
      status: { spiffeId: 'spiffe://mesh.test/ns/ai/sa/edge', mtlsMode: 'STRICT' },
      metadata: { resourceVersion: before + 1, generation: 1, createdBy: 'test-admin' },
    });
    const dup = await t.call({ method: 'POST', url: '/v1/workloads', payload: gatewayWorkload('edge', 'ai') });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ code: 'ALREADY_EXISTS' });
    const get = await t.call({ method: 'GET', url: '/v1/workloads/ai/edge', token: t.viewer });
    expect(get.statusCode).toBe(200);
    expect(get.headers['etag']).toBe(r.headers['etag']);
    const notModified = await t.call({ method: 'GET', url: '/v1/workloads/ai/edge', headers: { 'if-none-match': r.headers['etag'] as string } });
    expect(notModified.statusCode).toBe(304);
    expect((await t.call({ method: 'GET', url: '/v1/workloads/ai/none' })).statusCode).toBe(404);
  });

  it('names every invalid field: schema errors and model errors', async () => {
    const r = await t.call({
      method: 'POST',
      url: '/v1/workloads',
      payload: { name: 'Bad_Name', namespace: 'ai', serviceAccount: 7, role: 'router', colour: 'red' },
    });
    expect(r.statusCode).toBe(400);
    const fields = (r.json().errors as { field: string; reason: string }[]).map((e) => `${e.field}: ${e.reason}`);
    expect(fields).toEqual(
      expect.arrayContaining([
        '/colour: is not a known field',
        expect.stringMatching(/^\/name: must match pattern/),
        '/serviceAccount: must be string',
        '/role: must be one of "gateway", "sidecar", "proxyless"',
      ]),
    );
    const missing = await t.call({ method: 'POST', url: '/v1/workloads', payload: { name: 'x', namespace: 'ai' } });
    expect(missing.json().errors.map((e: { field: string }) => e.field).sort()).toEqual(['/role', '/serviceAccount']);
    // the domain model's own rules: a sidecar must serve a known model version
    const sidecar = await t.call({ method: 'POST', url: '/v1/workloads', payload: { ...gatewayWorkload('side'), role: 'sidecar', serves: { model: 'nope', version: 'v1' } } });
    expect(sidecar.statusCode).toBe(400);
    expect(sidecar.json().errors[0]).toMatchObject({ in: 'body', field: '/serves/model' });
    expect(sidecar.json().detail).toMatch(/model 'nope' does not exist/);
    expect(t.store.get('workloads', 'ai/side')).toBeUndefined();
  });

  it('requires If-Match on PUT (428), refuses stale versions (412) and accepts the current one or *', async () => {
    await t.call({ method: 'POST', url: '/v1/workloads', payload: gatewayWorkload('cc', 'ai') });
    const current = t.store.get('workloads', 'ai/cc')!.resourceVersion;
    const body = { ...gatewayWorkload('cc', 'ai'), mtlsMode: 'PERMISSIVE' };
    const noMatch = await t.call({ method: 'PUT', url: '/v1/workloads/ai/cc', payload: body });
    expect(noMatch.statusCode).toBe(428);
    expect(noMatch.json()).toMatchObject({ code: 'PRECONDITION_REQUIRED', currentVersion: current });
    const stale = await t.call({ method: 'PUT', url: '/v1/workloads/ai/cc', payload: body, headers: { 'if-match': `"${current - 1}"` } });
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ code: 'PRECONDITION_FAILED', currentVersion: current });
    const bad = await t.call({ method: 'PUT', url: '/v1/workloads/ai/cc', payload: body, headers: { 'if-match': 'twelve' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0]).toMatchObject({ in: 'headers', field: 'if-match' });
    const ok = await t.call({ method: 'PUT', url: '/v1/workloads/ai/cc', payload: body, headers: { 'if-match': `"${current}"` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ mtlsMode: 'PERMISSIVE', status: { mtlsMode: 'PERMISSIVE' }, metadata: { generation: 2 } });
    const v2 = ok.json().metadata.resourceVersion as number;
    expect(v2).toBeGreaterThan(current);
    // two operators read v2; the first write wins, the second gets 412 instead of overwriting silently
    const a = await t.call({ method: 'PUT', url: '/v1/workloads/ai/cc', payload: { ...body, labels: { team: 'a' } }, headers: { 'if-match': `"${v2}"` } });
    const b = await t.call({ method: 'PUT', url: '/v1/workloads/ai/cc', payload: { ...body, labels: { team: 'b' } }, headers: { 'if-match': `"${v2}"` } });
    expect([a.statusCode, b.statusCode]).toEqual([200, 412]);
    expect(t.store.get('workloads', 'ai/cc')!.spec).toMatchObject({ labels: { team: 'a' } });
    // * overwrites knowingly; an identical body is a no-op with an unchanged version
    const star = await t.call({ method: 'PUT', url: '/v1/workloads/ai/cc', payload: { ...body, labels: { team: 'a' } }, headers: { 'if-match': '*' } });
    expect(star.statusCode).toBe(200);
    expect(star.json().metadata.resourceVersion).toBe(a.json().metadata.resourceVersion);
    // GET → edit → PUT round trip works (kind, metadata and status are ignored)
    const got = (await t.call({ method: 'GET', url: '/v1/workloads/ai/cc' })).json();
    const rt = await t.call({ method: 'PUT', url: '/v1/workloads/ai/cc', payload: { ...got, labels: { team: 'c' } }, headers: { 'if-match': `"${got.metadata.resourceVersion}"` } });
    expect(rt.statusCode).toBe(200);
    // renaming through PUT is refused
    const rename = await t.call({ method: 'PUT', url: '/v1/workloads/ai/cc', payload: { ...body, name: 'dd' }, headers: { 'if-match': '*' } });
    expect(rename.statusCode).toBe(400);
    expect(rename.json().errors[0].field).toBe('/name');
    expect((await t.call({ method: 'PUT', url: '/v1/workloads/ai/zz', payload: { ...body, name: 'zz' }, headers: { 'if-match': '*' } })).statusCode).toBe(404);
  });

  it('lets exactly one of many concurrent writers with the same If-Match win', async () => {
    await t.call({ method: 'POST', url: '/v1/workloads', payload: gatewayWorkload('race', 'ai') });
    const etag = `"${t.store.get('workloads', 'ai/race')!.resourceVersion}"`;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.call({ method: 'PUT', url: '/v1/workloads/ai/race', payload: { ...gatewayWorkload('race', 'ai'), labels: { writer: String(i) } }, headers: { 'if-match': etag } }),
      ),
    );
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes.filter((c) => c === 200)).toHaveLength(1);
    expect(codes.filter((c) => c === 412)).toHaveLength(19);
    const winner = results.find((r) => r.statusCode === 200)!.json().labels.writer;
    expect((t.store.get('workloads', 'ai/race')!.spec as { labels: { writer: string } }).labels.writer).toBe(winner);
    expect(t.store.audit.query({ kind: 'workloads', name: 'ai/race' }).items.filter((e) => e.action === 'update')).toHaveLength(1);
  });

  it('deletes with an optional If-Match and reports the config version', async () => {
    await t.call({ method: 'POST', url: '/v1/workloads', payload: gatewayWorkload('gone', 'ai') });
    const v = t.store.get('workloads', 'ai/gone')!.resourceVersion;
    expect((await t.call({ method: 'DELETE', url: '/v1/workloads/ai/gone', headers: { 'if-match': `"${v + 100}"` } })).statusCode).toBe(412);
    expect((await t.call({ method: 'DELETE', url: '/v1/workloads/ai/gone', token: t.viewer })).statusCode).toBe(403);
    const d = await t.call({ method: 'DELETE', url: '/v1/workloads/ai/gone', headers: { 'if-match': `"${v}"` } });
    expect(d.statusCode).toBe(200);
    expect(d.json()).toEqual({ kind: 'Workload', name: 'ai/gone', deleted: true, configVersion: t.store.revision });
    expect((await t.call({ method: 'DELETE', url: '/v1/workloads/ai/gone' })).statusCode).toBe(404);
  });

  it('paginates and filters by namespace', async () => {
    for (let i = 0; i < 12; i++) await t.call({ method: 'POST', url: '/v1/workloads', payload: gatewayWorkload(`p${String(i).padStart(2, '0')}`, 'pages') });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const r = await t.call({ method: 'GET', url: `/v1/workloads?namespace=pages&limit=5${cursor ? `&cursor=${cursor}` : ''}` });
      expect(r.statusCode).toBe(200);
      const page = r.json() as { items: { name: string }[]; nextCursor?: string };
      expect(page.items.length).toBeLessThanOrEqual(5);
      seen.push(...page.items.map((i) => i.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `p${String(i).padStart(2, '0')}`));
    expect((await t.call({ method: 'GET', url: '/v1/workloads?limit=0' })).statusCode).toBe(400);
    expect((await t.call({ method: 'GET', url: '/v1/workloads?limit=5000' })).statusCode).toBe(400);
    const badCursor = await t.call({ method: 'GET', url: '/v1/workloads?cursor=%%%' });
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().errors[0]).toMatchObject({ in: 'querystring', field: 'cursor' });
    expect((await t.call({ method: 'GET', url: '/v1/workloads?colour=red' })).statusCode).toBe(400);
  });

  it('audits every change with actor and versions', async () => {
    await t.call({ method: 'POST', url: '/v1/workloads', payload: gatewayWorkload('aud', 'ai') });
    const v1 = t.store.get('workloads', 'ai/aud')!.resourceVersion;
    await t.call({ method: 'PUT', url: '/v1/workloads/ai/aud', payload: { ...gatewayWorkload('aud', 'ai'), mtlsMode: 'PERMISSIVE' }, headers: { 'if-match': `"${v1}"` } });
    const v2 = t.store.get('workloads', 'ai/aud')!.resourceVersion;
    await t.call({ method: 'DELETE', url: '/v1/workloads/ai/aud' });
    const r = await t.call({ method: 'GET', url: '/v1/audit?kind=workloads&name=ai/aud&order=asc', token: t.viewer });
    expect(r.json().items.map((e: Record<string, unknown>) => [e['action'], e['actor'], e['fromVersion'], e['toVersion']])).toEqual([
      ['create', 'test-admin', undefined, v1],
      ['update', 'test-admin', v1, v2],
      ['delete', 'test-admin', v2, undefined],
    ]);
    const since = await t.call({ method: 'GET', url: `/v1/audit?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}` });
    expect(since.json().items).toEqual([]);
    expect((await t.call({ method: 'GET', url: '/v1/audit?since=yesterday' })).statusCode).toBe(400);
    expect((await t.call({ method: 'GET', url: '/v1/audit?actor=nobody' })).json().items).toEqual([]);
  });

  it('issues join tokens once, lists them without secrets, revokes them, and audits both', async () => {
    await t.call({ method: 'POST', url: '/v1/workloads', payload: gatewayWorkload('joiner', 'ai') });
    const issued = await t.call({ method: 'POST', url: '/v1/workloads/ai/joiner/join-tokens', payload: { ttlSeconds: 600, description: 'host-1' } });
    expect(issued.statusCode).toBe(201);
    const body = issued.json() as { token: string; joinToken: { id: string; spiffeId: string; expiresAt: string } };
    expect(body.token).toMatch(/^mwj_/);
    expect(body.joinToken.spiffeId).toBe('spiffe://mesh.test/ns/ai/sa/joiner');
    // the CA accepts it
    expect((await ca.joinTokens.verify(body.token)).spiffeId).toBe(body.joinToken.spiffeId);
    const noBody = await t.call({ method: 'POST', url: '/v1/workloads/ai/joiner/join-tokens' });
    expect(noBody.statusCode).toBe(201);
    const list = await t.call({ method: 'GET', url: '/v1/workloads/ai/joiner/join-tokens', token: t.viewer });
    expect(list.json().items).toHaveLength(2);
    expect(list.body).not.toContain(body.token);
    expect(list.body).not.toContain('tokenHash');
    const tooLong = await t.call({ method: 'POST', url: '/v1/workloads/ai/joiner/join-tokens', payload: { ttlSeconds: 10 } });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().errors[0].field).toBe('/ttlSeconds');
    expect((await t.call({ method: 'POST', url: '/v1/workloads/ai/nobody/join-tokens', payload: {} })).statusCode).toBe(404);
    const del = await t.call({ method: 'DELETE', url: `/v1/workloads/ai/joiner/join-tokens/${body.joinToken.id}` });
    expect(del.statusCode).toBe(200);
    expect(del.json().revokedAt).toBeDefined();
    await expect(ca.joinTokens.verify(body.token)).rejects.toThrow();
    expect((await t.call({ method: 'DELETE', url: '/v1/workloads/ai/edge/join-tokens/abcdef0123456789' })).statusCode).toBe(404);
    const audit = await t.call({ method: 'GET', url: '/v1/audit?kind=join-tokens&order=asc' });
    expect(audit.json().items.map((e: { action: string }) => e.action)).toEqual(['issue', 'issue', 'revoke']);
    expect(audit.body).not.toContain(body.token);
  });
});

describe('join tokens without a CA', () => {
  it('answers 503 with a problem body', async () => {
    const t = await buildTestApp({ dlpConfigSchema: false });
    await t.call({ method: 'POST', url: '/v1/workloads', payload: gatewayWorkload() });
    const r = await t.call({ method: 'POST', url: '/v1/workloads/ai/edge/join-tokens', payload: {} });
    expect(r.statusCode).toBe(503);
    expect(r.json().code).toBe('UNAVAILABLE');
    await t.close();
  });
});
