import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryCaStore } from '../../../control-plane/src/ca/ca-store.js';
import { createMeshCa, type MeshCa } from '../../../control-plane/src/ca/mesh-ca.js';
import { workloadIdentity } from '../../../control-plane/src/ca/workload-identity.js';
import { createSqliteIssuedCertificateStore, createSqliteJoinTokenStore } from '../../../control-plane/src/store/sqlite-ca-stores.js';
import { createSqliteStore } from '../../../control-plane/src/store/sqlite-store.js';
import { createFleetRegistry, type StreamRecord } from '../../../control-plane/src/xds/fleet-view.js';
import { TypeUrl } from '../../../control-plane/src/xds/type-urls.js';
import { buildTestApp, type TestApp } from './helper.js';

describe('/v1/certificates and /v1/ca (real mesh CA, SQLite records)', () => {
  let t: TestApp;
  let ca: MeshCa;
  beforeAll(async () => {
    const store = createSqliteStore({ path: ':memory:' });
    ca = await createMeshCa({
      trustDomain: 'mesh.test',
      store: createMemoryCaStore(),
      certificates: createSqliteIssuedCertificateStore(store),
      joinTokenStore: createSqliteJoinTokenStore(store),
      propagationDelayMs: 60_000,
    });
    t = await buildTestApp({ store, ca, dlpConfigSchema: false });
    await ca.currentCertificate(workloadIdentity('mesh.test', 'ai', 'a'));
    await ca.currentCertificate(workloadIdentity('mesh.test', 'ai', 'b'));
  });
  afterAll(async () => {
    ca.close();
    await t.close();
  });

  it('lists, filters and reads issued certificates (viewer)', async () => {
    const all = await t.call({ method: 'GET', url: '/v1/certificates', token: t.viewer });
    expect(all.statusCode).toBe(200);
    expect(all.json().items).toHaveLength(2);
    expect(all.body).not.toMatch(/PRIVATE KEY/);
    const one = await t.call({ method: 'GET', url: `/v1/certificates?spiffeId=${encodeURIComponent('spiffe://mesh.test/ns/ai/sa/a')}` });
    expect(one.json().items).toHaveLength(1);
    const serial = one.json().items[0].serialNumber as string;
    expect((await t.call({ method: 'GET', url: `/v1/certificates/${serial}` })).json()).toMatchObject({ spiffeId: 'spiffe://mesh.test/ns/ai/sa/a', status: 'active' });
    expect((await t.call({ method: 'GET', url: '/v1/certificates/abcdef' })).statusCode).toBe(404);
    expect((await t.call({ method: 'GET', url: '/v1/certificates/not-hex' })).statusCode).toBe(400);
    const page = await t.call({ method: 'GET', url: '/v1/certificates?limit=1' });
    expect(page.json().items).toHaveLength(1);
    const page2 = await t.call({ method: 'GET', url: `/v1/certificates?limit=1&cursor=${page.json().nextCursor}` });
    expect(page2.json().items[0].serialNumber).not.toBe(page.json().items[0].serialNumber);
  });

  it('revokes a certificate (admin), blocks the identity, and audits it', async () => {
    const list = await t.call({ method: 'GET', url: `/v1/certificates?spiffeId=${encodeURIComponent('spiffe://mesh.test/ns/ai/sa/b')}` });
    const serial = list.json().items[0].serialNumber as string;
    expect((await t.call({ method: 'POST', url: `/v1/certificates/${serial}/revoke`, token: t.viewer, payload: {} })).statusCode).toBe(403);
    const r = await t.call({ method: 'POST', url: `/v1/certificates/${serial}/revoke`, payload: { reason: 'keyCompromise' } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise' });
    expect(ca.isBlocked('spiffe://mesh.test/ns/ai/sa/b')).toBe(true);
    expect((await t.call({ method: 'POST', url: '/v1/certificates/ffff/revoke', payload: {} })).statusCode).toBe(404);
    const audit = await t.call({ method: 'GET', url: '/v1/audit?kind=certificates' });
    expect(audit.json().items[0]).toMatchObject({ action: 'revoke', name: serial, actor: 'test-admin', reason: 'keyCompromise' });
  });

  it('shows the CA and starts a rotation (202), refusing a second one (409)', async () => {
    const before = await t.call({ method: 'GET', url: '/v1/ca', token: t.viewer });
    expect(before.json()).toMatchObject({ trustDomain: 'mesh.test', authorities: [{ role: 'active' }] });
    expect(before.json().rotation).toBeUndefined();
    const bad = await t.call({ method: 'POST', url: '/v1/ca/rotate', payload: { keyAlgorithm: 'DSA' } });
    expect(bad.statusCode).toBe(400);
    const r = await t.call({ method: 'POST', url: '/v1/ca/rotate', payload: {} });
    expect(r.statusCode).toBe(202);
    expect(r.json().rotation).toMatchObject({ phase: 'publish' });
    expect(r.json().authorities).toHaveLength(2);
    const again = await t.call({ method: 'POST', url: '/v1/ca/rotate', payload: {} });
    expect(again.statusCode).toBe(409);
    expect((await t.call({ method: 'GET', url: '/v1/audit?kind=ca' })).json().items[0]).toMatchObject({ action: 'rotate', actor: 'test-admin' });
  });

  it('keeps the mesh trust domain in line with the CA', async () => {
    const mesh = await t.call({ method: 'GET', url: '/v1/mesh' });
    expect(mesh.json()).toMatchObject({ kind: 'Mesh', name: 'mesh', trustDomain: 'mesh.test' });
    const bad = await t.call({ method: 'PUT', url: '/v1/mesh', payload: { trustDomain: 'other.test' }, headers: { 'if-match': mesh.headers['etag'] as string } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('/trustDomain');
    expect((await t.call({ method: 'PUT', url: '/v1/mesh', payload: { trustDomain: 'mesh.test', mtlsMode: 'PERMISSIVE' } })).statusCode).toBe(428);
    const ok = await t.call({ method: 'PUT', url: '/v1/mesh', payload: { trustDomain: 'mesh.test', mtlsMode: 'PERMISSIVE', namespaceMtlsModes: { ai: 'STRICT' } }, headers: { 'if-match': mesh.headers['etag'] as string } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ mtlsMode: 'PERMISSIVE' });
  });
});

describe('/v1/fleet (the xDS server fleet view)', () => {
  it('measures commit→ACK latency and pushes', async () => {
    const fleet2 = createFleetRegistry();
    const t2 = await buildTestApp({ fleet: fleet2.view, dlpConfigSchema: false });
    const r = record(9, 'envoy-z');
    fleet2.add(r);
    const created = await t2.call({ method: 'POST', url: '/v1/workloads', payload: { name: 'w', namespace: 'ai', serviceAccount: 'w', role: 'gateway' } });
    await new Promise((res) => setTimeout(res, 20));
    fleet2.ack(r, TypeUrl.Listener, `${created.headers['meshward-config-version']}.w01`);
    t2.app.meshwardMetrics.recordPublish({ changes: 3, published: [{}], error: undefined }, 0.012);
    t2.app.meshwardMetrics.recordPublish({ changes: 1, published: [], error: new Error('refused') }, 0.002);
    const m = (await t2.call({ method: 'GET', url: '/metrics' })).body;
    expect(m).toContain('meshward_xds_commit_to_ack_seconds_count{type="Listener"} 1');
    // at least the 20 ms we waited between the commit and the ACK (more on a busy machine)
    const sum = Number(/meshward_xds_commit_to_ack_seconds_sum\{type="Listener"\} ([\d.e-]+)/.exec(m)![1]);
    expect(sum).toBeGreaterThanOrEqual(0.015);
    expect(sum).toBeLessThan(30);
    expect(m).toContain('meshward_xds_pushes_total{result="published"} 1');
    expect(m).toContain('meshward_xds_pushes_total{result="refused"} 1');
    expect(m).toContain('meshward_xds_push_changes_sum 4');
    await t2.close();
  });

  let t: TestApp;
  const fleet = createFleetRegistry();
  const record = (streamId: number, nodeId: string): StreamRecord => ({
    streamId,
    protocol: 'sotw',
    peer: '127.0.0.1:5000',
    connectedSince: Date.parse('2026-01-01T00:00:00Z'),
    nodeId,
    cluster: 'gateways',
    group: 'gateway',
    identity: { id: `spiffe://mesh.test/ns/edge/sa/${nodeId}`, method: 'join-token' },
    lastSeen: Date.parse('2026-01-01T00:05:00Z'),
    types: new Map(),
    staleRequests: 0,
    unknownTypeRequests: 0,
  });
  beforeAll(async () => {
    t = await buildTestApp({ fleet: fleet.view, dlpConfigSchema: false });
    const a = record(1, 'envoy-a');
    const b = record(2, 'envoy-b');
    fleet.add(a);
    fleet.add(b);
    const lds = fleet.typeRecord(a, TypeUrl.Listener);
    lds.sentVersion = '7';
    fleet.ack(a, TypeUrl.Listener, '7');
    fleet.nack(b, TypeUrl.Cluster, { version: '8', nonce: 'n1', code: 3, message: 'bad cluster', at: new Date('2026-01-01T00:04:00Z') });
  });
  afterAll(async () => t.close());

  it('lists connected nodes with per-type ACKed version and last NACK', async () => {
    const r = await t.call({ method: 'GET', url: '/v1/fleet', token: t.viewer });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ connected: 2, configVersion: t.store.revision });
    expect(body.items.map((i: { nodeId: string }) => i.nodeId)).toEqual(['envoy-a', 'envoy-b']);
    expect(body.items[0]).toMatchObject({
      identity: { id: 'spiffe://mesh.test/ns/edge/sa/envoy-a', method: 'join-token' },
      lastSeen: '2026-01-01T00:05:00.000Z',
      types: { LDS: { ackedVersion: '7', sentVersion: '7' } },
    });
    // envoy-a ACKed LDS at version 7, ahead of this store's revision: in sync; envoy-b NACKed
    expect(body.items[0]).toMatchObject({ ackedConfigVersion: 7, inSync: true });
    expect(body.items[1]).toMatchObject({ inSync: false });
    expect(body.items[1].types.CDS.lastNack).toMatchObject({ version: '8', message: 'bad cluster', at: '2026-01-01T00:04:00.000Z' });
    const page = await t.call({ method: 'GET', url: '/v1/fleet?limit=1' });
    expect(page.json().items).toHaveLength(1);
    const next = await t.call({ method: 'GET', url: `/v1/fleet?limit=1&cursor=${page.json().nextCursor}` });
    expect(next.json().items[0].nodeId).toBe('envoy-b');
    expect((await t.call({ method: 'GET', url: '/v1/fleet/envoy-b' })).json().items).toHaveLength(1);
    const metrics = (await t.call({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('meshward_xds_connected_streams 2');
    expect(metrics).toContain('meshward_xds_connected_nodes 2');
    expect(metrics).toContain('meshward_xds_acks_total{type="Listener"} 1');
    expect(metrics).toContain('meshward_xds_nacks_total{type="Cluster"} 1');
    expect((await t.call({ method: 'GET', url: '/v1/fleet/ghost' })).statusCode).toBe(404);
  });
});
