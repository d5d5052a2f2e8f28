import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeltaAdsClient } from '../../xds-clients/delta-ads-client.js';
import { TypeUrl, createSnapshot } from './support.js';
import { TRANSPORTS, eventually, startHarness, type Harness } from './harness.js';
import { meshResources } from './fixtures.js';

const LDS = TypeUrl.Listener;
const CDS = TypeUrl.Cluster;
const RDS = TypeUrl.RouteConfiguration;
const EDS = TypeUrl.ClusterLoadAssignment;

let h: Harness;
const clients: DeltaAdsClient[] = [];
async function client(id: string, opts: Partial<Parameters<typeof DeltaAdsClient.connect>[0]> = {}): Promise<DeltaAdsClient> {
  const c = await DeltaAdsClient.connect({ address: h.address, node: { id, metadata: { role: 'sidecar' } }, ...opts });
  clients.push(c);
  return c;
}
const fleetOf = (id: string) => h.server.fleet.byNode(id)[0];


describe.each(TRANSPORTS)('delta ADS (transport %s)', (transport) => {
  beforeEach(async () => {
    h = await startHarness({}, { transport });
    h.publish('role=sidecar', 'v1');
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await h.close();
  });
  it('wildcard CDS, named EDS; a change sends only the changed resource, with per-resource versions', async () => {
    const c = await client('d1');
    c.subscribe(CDS, []);
    const cds = await c.responses.next((r) => r.typeUrl === CDS);
    expect(cds.updated).toEqual(['model-v1', 'model-v2']);
    expect(cds.systemVersionInfo).toBe('v1');
    const v1Versions = new Map(c.view(CDS).versions);
    expect(v1Versions.get('model-v1')).toMatch(/^[A-Za-z0-9_-]{16}$/);
    c.subscribe(EDS, ['model-v1']);
    expect((await c.responses.next((r) => r.typeUrl === EDS)).updated).toEqual(['model-v1']);
    c.subscribe(RDS, ['routes']);
    await c.responses.next((r) => r.typeUrl === RDS);
    await eventually(() => fleetOf('d1')?.types.RDS?.ackedVersion === 'v1' && fleetOf('d1')?.types.CDS?.ackedVersion === 'v1');
    h.publish('role=sidecar', 'v2', { weights: [20, 80] });
    const rds = await c.responses.next((r) => r.typeUrl === RDS);
    expect(rds.updated).toEqual(['routes']);
    expect(rds.systemVersionInfo).toBe('v2');
    await c.responses.none((r) => r.typeUrl === CDS || r.typeUrl === EDS, 250);
    await eventually(() => fleetOf('d1')?.types.RDS?.ackedVersion === 'v2');
    expect(fleetOf('d1')!.protocol).toBe('delta');
  });

  it('a deleted resource is announced in removed_resources; a missing subscribed one as a name-only Resource', async () => {
    const c = await client('d2');
    c.subscribe(CDS, []);
    await c.responses.next((r) => r.typeUrl === CDS);
    c.subscribe(EDS, ['model-v2', 'nope']);
    const eds = await c.responses.next((r) => r.typeUrl === EDS);
    expect(eds.updated).toEqual(['model-v2']);
    expect(eds.notFound).toEqual(['nope']);
    // Remove model-v2 entirely (route → v1 only).
    const without = meshResources({ weights: [100, 0] })
      .filter((m) => (m as { name?: string }).name !== 'model-v2' && (m as { clusterName?: string }).clusterName !== 'model-v2')
      .map((m) => m);
    const { create } = await import('@bufbuild/protobuf');
    const { RouteConfigurationSchema } = await import('../../../control-plane/src/gen/envoy/config/route/v3/route_pb.js');
    const idx = without.findIndex((m) => m.$typeName === 'envoy.config.route.v3.RouteConfiguration');
    without[idx] = create(RouteConfigurationSchema, {
      name: 'routes',
      virtualHosts: [{ name: 'm', domains: ['*'], routes: [{ match: { pathSpecifier: { case: 'prefix', value: '/' } }, action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'model-v1' } } } }] }],
    });
    h.cache.setSnapshot('role=sidecar', createSnapshot({ version: 'v2', resources: without }));
    const cds = await c.responses.next((r) => r.typeUrl === CDS);
    expect(cds.removed).toEqual(['model-v2']);
    expect(cds.updated).toEqual([]);
    const eds2 = await c.responses.next((r) => r.typeUrl === EDS);
    expect(eds2.removed).toEqual(['model-v2']);
    expect(c.view(CDS).versions.has('model-v2')).toBe(false);
  });

  it('reconnect with initial_resource_versions: only what changed is sent, deletions are announced', async () => {
    const c = await client('d3');
    c.subscribe(CDS, []);
    c.subscribe(EDS, ['model-v1', 'model-v2']);
    await c.responses.next((r) => r.typeUrl === CDS);
    await c.responses.next((r) => r.typeUrl === EDS);
    // Pretend the client held an old version of model-v2's endpoints and a cluster that is gone.
    c.view(EDS).versions.set('model-v2', 'old-version');
    c.view(CDS).versions.set('model-gone', 'whatever');
    await c.reconnect();
    const cds = await c.responses.next((r) => r.typeUrl === CDS);
    expect(cds.updated).toEqual([]);
    expect(cds.removed).toEqual(['model-gone']);
    const eds = await c.responses.next((r) => r.typeUrl === EDS);
    expect(eds.updated).toEqual(['model-v2']);
    await c.responses.none(() => true, 200);
  });

  it('NACK by nonce: error recorded, last ACKed version kept, rejected versions not resent; a newer version is', async () => {
    let bad = false;
    const c = await client('d4', { validate: (t) => (bad && t === RDS ? 'no thanks' : undefined) });
    c.subscribe(RDS, ['routes']);
    await c.responses.next((r) => r.typeUrl === RDS);
    await eventually(() => fleetOf('d4')?.types.RDS?.ackedVersion === 'v1');
    bad = true;
    h.publish('role=sidecar', 'v2', { weights: [1, 2] });
    expect((await c.responses.next((r) => r.typeUrl === RDS)).verdict).toBe('nack');
    const nack = await eventually(() => fleetOf('d4')?.types.RDS?.lastNack);
    expect(nack).toMatchObject({ version: 'v2', message: 'no thanks', code: 13 });
    expect(fleetOf('d4')!.types.RDS!.ackedVersion).toBe('v1');
    h.publish('role=sidecar', 'v3', { weights: [1, 2], port: 12000 }); // only LDS changes
    await c.responses.none((r) => r.typeUrl === RDS, 250);
    bad = false;
    h.publish('role=sidecar', 'v4', { weights: [3, 4], port: 12000 });
    expect((await c.responses.next((r) => r.typeUrl === RDS)).verdict).toBe('ack');
    await eventually(() => fleetOf('d4')?.types.RDS?.ackedVersion === 'v4');
  });

  it('subscription changes apply whatever the nonce; stale or unknown nonces do not ACK', async () => {
    const c = await client('d5', { autoAck: false });
    c.subscribe(EDS, ['model-v1']);
    const r1 = await c.responses.next();
    c.send({ typeUrl: EDS, subscribe: ['model-v2'], responseNonce: 'never-sent' });
    const r2 = await c.responses.next();
    expect(r2.updated).toEqual(['model-v2']);
    await eventually(() => fleetOf('d5')?.staleRequests === 1);
    expect(fleetOf('d5')!.types.EDS!.ackedVersion).toBeUndefined();
    c.send({ typeUrl: EDS, responseNonce: r1.nonce });
    c.send({ typeUrl: EDS, responseNonce: r2.nonce });
    await eventually(() => fleetOf('d5')?.types.EDS?.ackedVersion === 'v1');
    // A nonce can be ACKed only once.
    c.send({ typeUrl: EDS, responseNonce: r2.nonce, errorDetail: { code: 1, message: 'late' } });
    await eventually(() => fleetOf('d5')?.staleRequests === 2);
    expect(fleetOf('d5')!.types.EDS!.lastNack).toBeUndefined();
  });

  it('unsubscribe stops pushes for that name; re-subscribing resends it even if unchanged', async () => {
    const c = await client('d6');
    c.subscribe(EDS, ['model-v1', 'model-v2']);
    await c.responses.next((r) => r.typeUrl === EDS);
    c.subscribe(EDS, [], ['model-v2']);
    await c.responses.none(() => true, 150);
    expect(fleetOf('d6')!.types.EDS!.subscribed).toEqual(['model-v1']);
    c.subscribe(EDS, ['model-v1']); // already held: still resent
    expect((await c.responses.next()).updated).toEqual(['model-v1']);
  });

  it('explicit wildcard `*` and its unsubscription (LDS); `*` is not a wildcard for RDS', async () => {
    const c = await client('d7');
    c.subscribe(LDS, ['*']);
    expect((await c.responses.next((r) => r.typeUrl === LDS)).updated).toEqual(['ingress']);
    expect(fleetOf('d7')!.types.LDS!.subscribed).toEqual(['*']);
    c.subscribe(LDS, [], ['*']);
    await eventually(() => fleetOf('d7')?.types.LDS?.subscribed.length === 0);
    h.publish('role=sidecar', 'v2', { port: 1234 });
    await c.responses.none((r) => r.typeUrl === LDS, 200);
    c.subscribe(RDS, ['*']);
    const r = await c.responses.next((x) => x.typeUrl === RDS);
    expect(r.updated).toEqual([]);
    expect(r.notFound).toEqual(['*']);
  });

  it('garbage on a delta stream: undecodable bytes → INVALID_ARGUMENT for that stream only; unknown type_url ignored', async () => {
    const good = await client('d-good');
    good.subscribe(CDS, []);
    await good.responses.next();
    const bad = await client('d-bad');
    (bad as unknown as { stream: { write(b: Uint8Array): void } }).stream.write(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    const st = await bad.status;
    expect(st.code).toBe(3);
    expect(st.details).toMatch(/cannot decode envoy.service.discovery.v3.DeltaDiscoveryRequest/);
    const odd = await client('d-odd');
    odd.send({ typeUrl: 'type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration', subscribe: ['x'] });
    odd.subscribe(EDS, ['model-v1']);
    expect((await odd.responses.next()).typeUrl).toBe(EDS);
    expect(fleetOf('d-odd')!.unknownTypeRequests).toBe(1);
    h.publish('role=sidecar', 'v2', { weights: [9, 1] });
    good.subscribe(RDS, ['routes']);
    expect((await good.responses.next((r) => r.typeUrl === RDS)).systemVersionInfo).toBe('v2');
  });
});
