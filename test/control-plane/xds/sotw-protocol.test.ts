import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { create, toBinary } from '@bufbuild/protobuf';
import { DiscoveryRequestSchema } from '../../../control-plane/src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { RouteConfigurationSchema } from '../../../control-plane/src/gen/envoy/config/route/v3/route_pb.js';
import { SotwAdsClient } from '../../xds-clients/sotw-ads-client.js';
import { TypeUrl } from './support.js';
import { TRANSPORTS, eventually, startHarness, type Harness } from './harness.js';

const LDS = TypeUrl.Listener;
const CDS = TypeUrl.Cluster;
const RDS = TypeUrl.RouteConfiguration;
const EDS = TypeUrl.ClusterLoadAssignment;
const ECDS = TypeUrl.TypedExtensionConfig;

let h: Harness;
const clients: SotwAdsClient[] = [];
async function client(id: string, opts: Partial<Parameters<typeof SotwAdsClient.connect>[0]> = {}): Promise<SotwAdsClient> {
  const c = await SotwAdsClient.connect({ address: h.address, node: { id, metadata: { role: 'sidecar' } }, ...opts });
  clients.push(c);
  return c;
}


describe.each(TRANSPORTS)('SotW ADS (transport %s)', (transport) => {
  beforeEach(async () => {
    h = await startHarness({}, { transport });
    h.publish('role=sidecar', 'v1');
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await h.close();
  });
  it('serves an Envoy-like bootstrap: CDS/LDS wildcard, then EDS/RDS/ECDS by name, all ACKed', async () => {
    const c = await client('envoy-1');
    c.subscribe(CDS, []);
    const cds = await c.responses.next((r) => r.typeUrl === CDS);
    expect(cds.versionInfo).toBe('v1');
    expect(cds.names).toEqual(['model-v1', 'model-v2']);
    c.subscribe(EDS, ['model-v1', 'model-v2']);
    c.subscribe(LDS, []);
    const eds = await c.responses.next((r) => r.typeUrl === EDS);
    expect(eds.names).toEqual(['model-v1', 'model-v2']);
    const lds = await c.responses.next((r) => r.typeUrl === LDS);
    expect(lds.names).toEqual(['ingress']);
    c.subscribe(RDS, ['routes']);
    c.subscribe(ECDS, ['meshward']);
    expect((await c.responses.next((r) => r.typeUrl === RDS)).names).toEqual(['routes']);
    expect((await c.responses.next((r) => r.typeUrl === ECDS)).names).toEqual(['meshward']);
    const status = await eventually(() => {
      const s = h.server.fleet.byNode('envoy-1')[0];
      return s !== undefined && Object.values(s.types).every((t) => t.ackedVersion === 'v1') && Object.keys(s.types).length === 5 ? s : undefined;
    });
    expect(status.group).toBe('role=sidecar');
    expect(status.types.CDS!.subscribed).toEqual(['*']);
    expect(status.types.EDS!.subscribed).toEqual(['model-v1', 'model-v2']);
    // Nothing more is sent while nothing changes.
    await c.responses.none(() => true, 200);
  });

  it('pushes only the types that changed, to every stream of the group, and not to other groups', async () => {
    h.publish('role=gateway', 'g1', { extraListener: 'admin' });
    const a = await client('a');
    const b = await client('b');
    const g = await SotwAdsClient.connect({ address: h.address, node: { id: 'gw', metadata: { role: 'gateway' } } });
    clients.push(g);
    for (const c of [a, b, g]) {
      c.subscribe(CDS, []);
      c.subscribe(RDS, ['routes']);
    }
    for (const c of [a, b, g]) {
      await c.responses.next((r) => r.typeUrl === CDS);
      await c.responses.next((r) => r.typeUrl === RDS);
    }
    h.publish('role=sidecar', 'v2', { weights: [50, 50] });
    for (const c of [a, b]) {
      const rds = await c.responses.next((r) => r.typeUrl === RDS);
      expect(rds.versionInfo).toBe('v2');
    }
    await a.responses.none((r) => r.typeUrl === CDS, 200);
    await g.responses.none(() => true, 100);
  });

  it('NACK: keyed on the nonce (even when version_info is the new version), records error_detail, keeps the ACKed version, never resends the bad version', async () => {
    let reject = false;
    const c = await client('nacker', {
      validate: (typeUrl) => (reject && typeUrl === RDS ? 'route "routes": weights must sum to 100' : undefined),
    });
    c.subscribe(RDS, ['routes']);
    await c.responses.next((r) => r.typeUrl === RDS && r.verdict === 'ack');
    await eventually(() => h.server.fleet.byNode('nacker')[0]?.types.RDS?.ackedVersion === 'v1');
    reject = true;
    h.publish('role=sidecar', 'v2', { weights: [70, 70] });
    const bad = await c.responses.next((r) => r.typeUrl === RDS);
    expect(bad.verdict).toBe('nack');
    const st = await eventually(() => h.server.fleet.byNode('nacker')[0]?.types.RDS?.lastNack);
    expect(st.version).toBe('v2');
    expect(st.message).toBe('route "routes": weights must sum to 100');
    expect(st.code).toBe(13);
    expect(h.server.fleet.byNode('nacker')[0]!.types.RDS!.ackedVersion).toBe('v1');
    // A NACK that (like some clients) carries the NEW version is still a NACK, because of the nonce.
    c.send({ typeUrl: RDS, versionInfo: 'v2', responseNonce: bad.nonce, resourceNames: ['routes'], errorDetail: { code: 3, message: 'second opinion' } });
    await eventually(() => h.server.fleet.byNode('nacker')[0]?.types.RDS?.lastNack?.message === 'second opinion');
    expect(h.server.fleet.byNode('nacker')[0]!.types.RDS!.ackedVersion).toBe('v1');
    // No resend loop of v2.
    await c.responses.none((r) => r.typeUrl === RDS, 300);
    // A new version is pushed and ACKed.
    reject = false;
    h.publish('role=sidecar', 'v3', { weights: [60, 40] });
    const good = await c.responses.next((r) => r.typeUrl === RDS);
    expect(good.versionInfo).toBe('v3');
    expect(good.verdict).toBe('ack');
    await eventually(() => h.server.fleet.byNode('nacker')[0]?.types.RDS?.ackedVersion === 'v3');
  });

  it('ignores requests with a stale nonce or a nonce it never sent (no ACK recorded, no response), and the stream keeps working', async () => {
    const c = await client('stale');
    c.subscribe(EDS, ['model-v1']);
    const first = await c.responses.next((r) => r.typeUrl === EDS);
    h.publish('role=sidecar', 'v2', { port: 10001 }); // LDS only: no EDS push
    c.subscribe(EDS, ['model-v1', 'model-v2']); // carries the latest nonce → served
    const second = await c.responses.next((r) => r.typeUrl === EDS);
    expect(second.names).toEqual(['model-v1', 'model-v2']);
    expect(second.nonce).not.toBe(first.nonce);
    await eventually(() => h.server.fleet.byNode('stale')[0]?.types.EDS?.ackedVersion === 'v1');
    // Stale nonce with a changed subscription: ignored entirely.
    c.send({ typeUrl: EDS, versionInfo: 'v1', responseNonce: first.nonce, resourceNames: ['model-v2'] });
    // A nonce never sent: ignored.
    c.send({ typeUrl: EDS, versionInfo: 'v1', responseNonce: 'never-sent', resourceNames: [], errorDetail: { code: 2, message: 'bogus' } });
    await c.responses.none((r) => r.typeUrl === EDS, 300);
    const st = h.server.fleet.byNode('stale')[0]!;
    expect(st.staleRequests).toBe(2);
    expect(st.types.EDS!.lastNack).toBeUndefined();
    expect(st.types.EDS!.subscribed).toEqual(['model-v1', 'model-v2']);
  });

  it('handles re-subscription one name at a time with an empty nonce before any response arrived', async () => {
    const c = await client('one-by-one', { autoAck: false });
    c.send({ typeUrl: EDS, resourceNames: ['model-v1'] });
    c.send({ typeUrl: EDS, resourceNames: ['model-v1', 'model-v2'] }); // empty nonce again
    const r1 = await c.responses.next((r) => r.typeUrl === EDS);
    const r2 = await c.responses.next((r) => r.typeUrl === EDS);
    expect(r1.names).toEqual(['model-v1']);
    expect(r2.names).toEqual(['model-v1', 'model-v2']);
    // ACK of the first (now stale) nonce is ignored; ACK of the latest is recorded.
    c.send({ typeUrl: EDS, versionInfo: 'v1', responseNonce: r1.nonce, resourceNames: ['model-v1', 'model-v2'] });
    c.send({ typeUrl: EDS, versionInfo: 'v1', responseNonce: r2.nonce, resourceNames: ['model-v1', 'model-v2'] });
    await eventually(() => h.server.fleet.byNode('one-by-one')[0]?.types.EDS?.ackedVersion === 'v1');
    expect(h.server.fleet.byNode('one-by-one')[0]!.staleRequests).toBe(1);
    await c.responses.none(() => true, 200);
  });

  it('wildcard semantics: legacy wildcard (empty first request) stays wildcard; `*` is explicit; named mode sends only named; empty after named means none', async () => {
    const c = await client('wild');
    c.subscribe(CDS, []);
    expect((await c.responses.next((r) => r.typeUrl === CDS)).names).toEqual(['model-v1', 'model-v2']);
    c.subscribe(CDS, []); // still wildcard: nothing new to send
    await c.responses.none((r) => r.typeUrl === CDS, 200);
    c.subscribe(CDS, ['model-v2']); // leaves wildcard: LDS/CDS responses hold exactly the subscribed set
    expect((await c.responses.next((r) => r.typeUrl === CDS)).names).toEqual(['model-v2']);
    c.subscribe(CDS, []); // after naming resources, empty means none
    expect((await c.responses.next((r) => r.typeUrl === CDS)).names).toEqual([]);
    c.subscribe(CDS, ['*', 'model-v1']); // explicit wildcard
    expect((await c.responses.next((r) => r.typeUrl === CDS)).names).toEqual(['model-v1', 'model-v2']);
    // RDS has no wildcard: an empty first request subscribes nothing and gets nothing.
    c.subscribe(RDS, []);
    await c.responses.none((r) => r.typeUrl === RDS, 200);
    // '*' is a plain (absent) name for RDS.
    c.subscribe(RDS, ['*']);
    await c.responses.none((r) => r.typeUrl === RDS, 200);
    // A named resource that appears later is pushed when it springs into existence.
    c.subscribe(EDS, ['model-v3']);
    await c.responses.none((r) => r.typeUrl === EDS, 200);
  });

  it('an LDS/CDS first request is answered even when the group has no such resources; a snapshot published later reaches waiting streams', async () => {
    const c = await SotwAdsClient.connect({ address: h.address, node: { id: 'early', metadata: { role: 'late' } } });
    clients.push(c);
    c.subscribe(CDS, []);
    c.subscribe(RDS, ['routes']);
    await c.responses.none(() => true, 200); // no snapshot for the group yet
    h.publish('role=late', 'L1');
    expect((await c.responses.next((r) => r.typeUrl === CDS)).versionInfo).toBe('L1');
    expect((await c.responses.next((r) => r.typeUrl === RDS)).names).toEqual(['routes']);
  });

  it('reconnect: the client presents its last version; the fleet view shows it and the stream is served', async () => {
    const c = await client('re');
    c.subscribe(CDS, []);
    c.subscribe(RDS, ['routes']);
    await c.responses.next((r) => r.typeUrl === CDS);
    await c.responses.next((r) => r.typeUrl === RDS);
    await eventually(() => h.server.fleet.byNode('re')[0]?.types.RDS?.ackedVersion === 'v1');
    h.publish('role=sidecar', 'v2', { weights: [10, 90] });
    await c.responses.next((r) => r.typeUrl === RDS && r.versionInfo === 'v2');
    await c.reconnect();
    const cds = await c.responses.next((r) => r.typeUrl === CDS);
    expect(cds.versionInfo).toBe('v1'); // CDS did not change since v1
    const rds = await c.responses.next((r) => r.typeUrl === RDS);
    expect(rds.versionInfo).toBe('v2');
    await eventually(() => h.server.fleet.byNode('re').length === 1 && h.server.fleet.byNode('re')[0]!.types.RDS?.ackedVersion === 'v2');
  });

  it('garbage: undecodable bytes end that stream with INVALID_ARGUMENT; other streams are unaffected', async () => {
    const good = await client('good');
    good.subscribe(CDS, []);
    await good.responses.next();
    const bad = await client('bad');
    const frame = Buffer.from([0, 0, 0, 0, 3, 0xff, 0xff, 0xff]);
    bad.sendBytes(frame.subarray(5)); // framed by the client: 3 bytes of garbage
    const st = await bad.status;
    expect(st.code).toBe(3);
    expect(st.details).toMatch(/cannot decode envoy.service.discovery.v3.DiscoveryRequest/);
    expect(bad.responses.history).toHaveLength(0);
    h.publish('role=sidecar', 'v2', { extraListener: 'x' });
    h.publish('role=sidecar', 'v3', { extraListener: 'x', weights: [1, 99] });
    good.subscribe(RDS, ['routes']);
    expect((await good.responses.next((r) => r.typeUrl === RDS)).versionInfo).toBe('v3');
  });

  it('garbage: no node on the first request, empty type_url → INVALID_ARGUMENT naming the field; unknown type_url is ignored', async () => {
    const noNode = await client('x');
    noNode.send({ typeUrl: CDS, node: create((await import('../../../control-plane/src/gen/envoy/config/core/v3/base_pb.js')).NodeSchema, { id: '' }) });
    expect(await noNode.status).toEqual({ code: 3, details: expect.stringMatching(/^node: /) });
    const noType = await client('y');
    noType.send({ typeUrl: '' });
    expect(await noType.status).toEqual({ code: 3, details: expect.stringMatching(/^type_url: required/) });
    const unknown = await client('z');
    unknown.send({ typeUrl: 'type.googleapis.com/envoy.config.route.v3.VirtualHost', resourceNames: ['a'] });
    unknown.subscribe(RDS, ['routes']);
    expect((await unknown.responses.next()).typeUrl).toBe(RDS);
    expect(h.server.fleet.byNode('z')[0]!.unknownTypeRequests).toBe(1);
  });

  it('a NACKed response is not resent when an unrelated type changes; only a new version of that type is', async () => {
    const c = await client('loop', { validate: (t, res) => (t === ECDS && [...res.keys()].includes('meshward') && h.cache.getSnapshot('role=sidecar')!.version === 'v2' ? 'bad wasm config' : undefined) });
    c.subscribe(ECDS, ['meshward']);
    c.subscribe(LDS, []);
    await c.responses.next((r) => r.typeUrl === ECDS);
    await c.responses.next((r) => r.typeUrl === LDS);
    // (An ACK that arrives after a newer response was sent carries a stale nonce and is ignored.)
    await eventually(() => h.server.fleet.byNode('loop')[0]?.types.ECDS?.ackedVersion === 'v1');
    h.publish('role=sidecar', 'v2', { filterConfig: '{"mode":"broken"}' });
    expect((await c.responses.next((r) => r.typeUrl === ECDS)).verdict).toBe('nack');
    h.publish('role=sidecar', 'v3', { filterConfig: '{"mode":"broken"}', port: 10005 }); // LDS changes, ECDS does not
    expect((await c.responses.next((r) => r.typeUrl === LDS)).versionInfo).toBe('v3');
    await c.responses.none((r) => r.typeUrl === ECDS, 300);
    const s = h.server.fleet.byNode('loop')[0]!;
    expect(s.types.ECDS!.lastNack!.message).toBe('bad wasm config');
    expect(s.types.ECDS!.ackedVersion).toBe('v1');
  });

  it('a malformed-but-decodable request (proto with unknown fields) is tolerated', async () => {
    const c = await client('unk');
    const bytes = Buffer.concat([
      Buffer.from(toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { typeUrl: RDS, resourceNames: ['routes'], node: { id: 'unk', metadata: { role: 'sidecar' } } }))),
      Buffer.from([0xf8, 0x07, 0x01]), // field 127 varint 1: unknown
    ]);
    c.sendBytes(bytes);
    expect((await c.responses.next()).names).toEqual(['routes']);
    void RouteConfigurationSchema;
  });

  it('nonces never repeat on a stream (subscription A → B → A on one snapshot), while streams with the same view share one pre-built response', async () => {
    const c = await client('nonces');
    const d = await client('nonces-2');
    const nonces: string[] = [];
    for (const names of [['model-v1'], ['model-v1', 'model-v2'], ['model-v1']]) {
      c.subscribe(EDS, names);
      const r = await c.responses.next((x) => x.typeUrl === EDS);
      expect(r.names).toEqual(names);
      nonces.push(r.nonce);
    }
    expect(new Set(nonces).size).toBe(3);
    d.subscribe(RDS, ['routes']);
    c.subscribe(RDS, ['routes']);
    const [rc, rd] = [await c.responses.next((x) => x.typeUrl === RDS), await d.responses.next((x) => x.typeUrl === RDS)];
    expect(rc.nonce).toBe(rd.nonce); // one shared buffer for both streams
    h.publish('role=sidecar', 'v2', { weights: [5, 95] });
    const [pc, pd] = [await c.responses.next((x) => x.typeUrl === RDS), await d.responses.next((x) => x.typeUrl === RDS)];
    expect(pc.nonce).toBe(pd.nonce);
    expect(pc.nonce).not.toBe(rc.nonce);
  });

  it('a node the grouping cannot place ends its stream with INVALID_ARGUMENT naming node metadata', async () => {
    const { createSnapshotCache, createXdsServer } = await import('./support.js');
    const cache = createSnapshotCache({
      groupOf: (node) => {
        const role = node.metadata?.role;
        if (typeof role !== 'string') throw new Error('metadata "role" must be one of gateway, sidecar, proxyless');
        return `role=${role}`;
      },
    });
    const server = createXdsServer({ cache });
    const port = await server.listen({ transport });
    const c = await SotwAdsClient.connect({ address: `127.0.0.1:${port}`, node: { id: 'no-role' } });
    c.subscribe(CDS, []);
    expect(await c.status).toEqual({ code: 3, details: 'node: metadata "role" must be one of gateway, sidecar, proxyless' });
    c.close();
    await server.close();
  });

  it('a client that stops reading is ended with RESOURCE_EXHAUSTED once too many responses queue; others keep being served', async () => {
    const hung = await client('hung');
    const ok = await client('ok');
    hung.subscribe(RDS, ['routes']);
    ok.subscribe(RDS, ['routes']);
    await hung.responses.next();
    await ok.responses.next();
    hung.pauseReading();
    for (let i = 0; i < 900; i++) h.publish('role=sidecar', `flood-${i}`, { weights: [i + 1, 1000] });
    const st = await eventually(() => h.server.fleet.byNode('hung').length === 0 || undefined, 10_000, 'hung stream ended');
    expect(st).toBe(true);
    hung.resumeReading();
    expect(await hung.status).toEqual({ code: 8, details: expect.stringMatching(/responses queued for 2000 ms: the client is not reading/) });
    h.publish('role=sidecar', 'after', { weights: [3, 3] });
    await eventually(() => h.server.fleet.byNode('ok')[0]?.types.RDS?.ackedVersion === 'after', 5000, 'ok stream ACKed');
  });

  it('a first request carrying a nonce from a previous stream is served (not ignored forever), acknowledging nothing', async () => {
    const c = await client('carried', { autoAck: false });
    c.send({ typeUrl: RDS, versionInfo: 'v0', responseNonce: 'nonce-from-the-last-stream', resourceNames: ['routes'] });
    const r = await c.responses.next();
    expect(r.names).toEqual(['routes']);
    const st = h.server.fleet.byNode('carried')[0]!;
    expect(st.staleRequests).toBe(1);
    expect(st.types.RDS!.ackedVersion).toBe('v0'); // what the client said it runs
    expect(st.types.RDS!.lastNack).toBeUndefined();
  });
});
