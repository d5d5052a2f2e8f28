/**
 * End to end through the real xDS server (control-plane/src/xds) over real gRPC streams: the CA's
 * authenticator and secrets provider plugged into its seams.
 */
import { createPrivateKey } from 'node:crypto';
import { toBinary, type Message } from '@bufbuild/protobuf';
import { DeltaDiscoveryResponseSchema, DiscoveryResponseSchema } from '../../../control-plane/src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Secret } from '../../../control-plane/src/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import {
  createManualClock,
  createMemoryCaStore,
  createNodeAuthorizer,
  createSecretsProvider,
  createStreamAuthenticator,
  trackStreamActivity,
  type ManualClock,
  type MeshCa,
} from '../../../control-plane/src/ca/index.js';
import {
  TypeUrl,
  createSnapshot,
  createSnapshotCache,
  createXdsServer,
  createXdsServerCredentials,
  type XdsServer,
} from '../../../control-plane/src/xds/index.js';
import { SotwAdsClient } from '../../xds-clients/sotw-ads-client.js';
import { DeltaAdsClient } from '../../xds-clients/delta-ads-client.js';
import { eventually } from '../xds/harness.js';
import { idOf, newMeshCa, pemsFromSecrets, splitCerts } from './ca-test-kit.js';

const SDS = TypeUrl.Secret;
const A = idOf('prod', 'model-a');
const B = idOf('prod', 'attacker');

function keyOf(m: Message | undefined): string {
  const s = m as Secret | undefined;
  if (s?.type.case !== 'tlsCertificate') throw new Error('not a tls_certificate');
  return Buffer.from(s.type.value.privateKey!.specifier.value as Uint8Array).toString('utf8');
}

describe('xDS streams authenticated by the CA get only their own secrets', () => {
  let clock: ManualClock;
  let ca: MeshCa;
  let server: XdsServer;
  let address: string;
  const open: Array<{ close(): void }> = [];

  const caStore = createMemoryCaStore();
  beforeAll(async () => {
    clock = createManualClock(Date.now());
    ca = await newMeshCa({ clock, store: caStore });
    const secrets = createSecretsProvider(ca);
    const cache = createSnapshotCache();
    cache.setSnapshot('default', createSnapshot({ version: 'v1', resources: [] }));
    server = createXdsServer({ cache, authenticate: createStreamAuthenticator(ca), authorizeNode: createNodeAuthorizer(), secrets });
    secrets.connect((id) => server.notifySecretsChanged(id));
    address = `127.0.0.1:${await server.listen()}`;
  });
  afterEach(() => open.splice(0).forEach((c) => c.close()));
  afterAll(async () => {
    await server.close();
    ca.close();
  });

  const sotw = async (nodeId: string, metadata?: Record<string, string>, nodeMetadata?: Record<string, string>): Promise<SotwAdsClient> => {
    const c = await SotwAdsClient.connect({ address, node: { id: nodeId, ...(nodeMetadata ? { metadata: nodeMetadata } : {}) }, ...(metadata ? { metadata } : {}) });
    open.push(c);
    return c;
  };

  it('no credential: UNAUTHENTICATED and nothing else', async () => {
    const c = await sotw('anon');
    c.subscribe(SDS, ['default', 'ROOTCA']);
    const status = await c.status;
    expect(status.code).toBe(16);
    expect(status.details).toMatch(/^no credential: present a join token/);
    expect(c.responses.history).toHaveLength(0);
  });

  it.each([
    ['a malformed token', { authorization: 'Bearer not-a-token' }, /join token is malformed/],
    ['an unknown token', { authorization: `Bearer mwj_${'A'.repeat(43)}` }, /join token is not known/],
    ['a non-bearer authorization', { authorization: 'Basic Zm9vOmJhcg==' }, /must be 'Bearer <join token>'/],
    ['two tokens', { authorization: `Bearer mwj_${'A'.repeat(43)}`, 'x-meshward-join-token': `mwj_${'B'.repeat(43)}` }, /more than one join token/],
  ])('%s: UNAUTHENTICATED and nothing else', async (_what, metadata, message) => {
    const c = await sotw('bad', metadata);
    c.subscribe(SDS, ['default']);
    const status = await c.status;
    expect(status.code).toBe(16);
    expect(status.details).toMatch(message);
    for (const v of Object.values(metadata)) expect(status.details).not.toContain(v.replace(/^Bearer /, '')); // never echo a token
    expect(c.responses.history).toHaveLength(0);
  });

  it("an attacker's stream never obtains another workload's key, whatever it asks for", async () => {
    const victim = await ca.issueJoinToken(A);
    const attacker = await ca.issueJoinToken(B);
    const v = await sotw('victim-1', { authorization: `Bearer ${victim.token}` });
    v.subscribe(SDS, ['default', 'ROOTCA']);
    const vr = await v.responses.next((r) => r.typeUrl === SDS);
    const victimKey = keyOf(vr.resources.get('default'));

    const m = await sotw('attacker-1', { 'x-meshward-join-token': attacker.token });
    m.subscribe(SDS, ['default', 'ROOTCA', A, 'spiffe://mesh.test/ns/prod/sa/model-a', 'model-a', '*', '']);
    const mr = await m.responses.next((r) => r.typeUrl === SDS);
    expect(mr.names.sort()).toEqual(['ROOTCA', 'default']);
    const attackerKey = keyOf(mr.resources.get('default'));
    expect(attackerKey).not.toBe(victimKey);
    expect(attackerKey).toBe((await ca.currentCertificate(ca.parseIdentity(B))).privateKeyPem);
    // the attacker's certificate names the attacker
    const pems = pemsFromSecrets([...mr.resources.values()] as Secret[]);
    expect(pems.chain).toBe((await ca.currentCertificate(ca.parseIdentity(B))).certificateChainPem);
    // wildcard / delta streams do not change that
    const d = await DeltaAdsClient.connect({ address, node: { id: 'attacker-2' }, metadata: { authorization: `Bearer ${attacker.token}` } });
    open.push(d);
    d.subscribe(SDS, ['default', 'ROOTCA', A]);
    const dr = await d.responses.next((r) => r.typeUrl === SDS);
    expect(dr.updated.sort()).toEqual(['ROOTCA', 'default']);
    expect(dr.notFound).toEqual([A]);
    const deltaDefault = dr.response.resources.find((r) => r.name === 'default')!;
    expect(Buffer.from(deltaDefault.resource!.value).includes(Buffer.from(victimKey))).toBe(false);
    expect(Buffer.from(deltaDefault.resource!.value).includes(Buffer.from(attackerKey))).toBe(true);
    for (const r of m.responses.history) for (const s of r.resources.values()) if ((s as Secret).type.case === 'tlsCertificate') expect(keyOf(s)).not.toBe(victimKey);
    // and no response on any stream carries the CA's private key
    const caKey = createPrivateKey(await caStore.loadKey(ca.authority.active().id));
    const caKeyForms = [caKey.export({ type: 'pkcs8', format: 'der' }), Buffer.from(caKey.export({ format: 'jwk' }).d!, 'base64url')];
    const wire = Buffer.concat([...v.responses.history, ...m.responses.history].map((r) => Buffer.from(toBinary(DiscoveryResponseSchema, r.response))));
    const wireDelta = Buffer.from(toBinary(DeltaDiscoveryResponseSchema, dr.response));
    for (const f of caKeyForms) {
      expect(wire.includes(f)).toBe(false);
      expect(wireDelta.includes(f)).toBe(false);
    }
    // a node that claims the victim's identity in its metadata is refused
    const liar = await sotw('attacker-3', { authorization: `Bearer ${attacker.token}` }, { 'meshward.identity': A });
    liar.subscribe(SDS, ['default']);
    expect(await liar.status).toMatchObject({ code: 7 });
    expect(liar.responses.history).toHaveLength(0);
  });

  it('expired and revoked join tokens are refused; revocation of a token by id', async () => {
    const short = await ca.issueJoinToken(idOf('prod', 'short'), { ttlMs: 60_000 });
    await clock.advance(61_000);
    const c1 = await sotw('short', { authorization: `Bearer ${short.token}` });
    expect(await c1.status).toMatchObject({ code: 16, details: expect.stringMatching(/expired/) });
    const t = await ca.issueJoinToken(idOf('prod', 'gone'));
    await ca.revokeJoinToken(t.record.tokenId);
    const c2 = await sotw('gone', { authorization: `Bearer ${t.token}` });
    expect(await c2.status).toMatchObject({ code: 16, details: `join token ${t.record.tokenId} was revoked` });
    expect(c1.responses.history.length + c2.responses.history.length).toBe(0);
  });

  it('renewal and revocation are pushed on open streams', async () => {
    const t = await ca.issueJoinToken(A);
    const c = await sotw('a-push', { authorization: `Bearer ${t.token}` });
    c.subscribe(SDS, ['default', 'ROOTCA']);
    const first = await c.responses.next((r) => r.typeUrl === SDS && r.resources.has('default'));
    const key1 = keyOf(first.resources.get('default'));
    await ca.renew(A);
    const second = await c.responses.next((r) => r.typeUrl === SDS && r.resources.has('default') && keyOf(r.resources.get('default')) !== key1);
    expect(second.versionInfo).not.toBe(first.versionInfo);
    // revoking another workload's certificate changes everyone's ROOTCA (new CRL)
    const other = await ca.currentCertificate(ca.parseIdentity(idOf('prod', 'other')));
    const crlBefore = pemsFromSecrets([...second.resources.values()] as Secret[]).crl;
    await ca.revokeCertificate(other.serialNumber);
    const third = await c.responses.next((r) => {
      const root = r.resources.get('ROOTCA') as Secret | undefined;
      return root?.type.case === 'validationContext' && Buffer.from(root.type.value.crl!.specifier.value as Uint8Array).toString() !== crlBefore;
    });
    expect(third.typeUrl).toBe(SDS);
  });
});

describe('mTLS on the xDS connection', () => {
  it('a workload certificate authenticates the stream; revoked, foreign or missing ones do not', async () => {
    const clock = createManualClock(Date.now());
    const ca = await newMeshCa({ clock });
    const other = await newMeshCa();
    const serving = await ca.servingCertificate({ ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'] });
    const creds = createXdsServerCredentials({ mode: 'tls', ...serving.current(), clientCertificates: 'optional' });
    serving.onChange((m) => creds.update(m));
    const cache = createSnapshotCache();
    cache.setSnapshot('default', createSnapshot({ version: 'v1', resources: [] }));
    const secrets = createSecretsProvider(ca);
    const server = createXdsServer({ cache, authenticate: createStreamAuthenticator(ca), secrets });
    secrets.connect((id) => server.notifySecretsChanged(id));
    const address = `127.0.0.1:${await server.listen({ credentials: creds })}`;
    const trust = serving.current().clientCa;
    const clients: Array<{ close(): void }> = [];
    try {
      const a = await ca.currentCertificate(ca.parseIdentity(A));
      const viaCert = await SotwAdsClient.connect({ address, tls: { ca: trust, cert: a.certificateChainPem, key: a.privateKeyPem }, node: { id: 'a-tls' } });
      clients.push(viaCert);
      viaCert.subscribe(SDS, ['default', 'ROOTCA']);
      const r = await viaCert.responses.next((x) => x.typeUrl === SDS);
      expect(keyOf(r.resources.get('default'))).toBe(a.privateKeyPem);
      expect(server.fleet.byNode('a-tls')[0]!.identity).toMatchObject({ id: A, method: 'mtls', attributes: { certificateSerial: a.serialNumber } });

      // the serving certificate names the control plane and the address dialled
      expect(splitCerts(serving.current().certificateChain)).toHaveLength(1);

      // a certificate from another CA: not verified by TLS, and no token → refused
      const f = await other.currentCertificate(other.parseIdentity(A));
      const foreign = await SotwAdsClient.connect({ address, tls: { ca: trust, cert: f.certificateChainPem, key: f.privateKeyPem }, node: { id: 'f' } });
      clients.push(foreign);
      foreign.subscribe(SDS, ['default']);
      expect((await foreign.status).code).toBe(16);
      expect(foreign.responses.history).toHaveLength(0);

      // a revoked certificate: refused at the next stream, with the reason
      const b = await ca.currentCertificate(ca.parseIdentity(B));
      await ca.revokeCertificate(b.serialNumber);
      const revoked = await SotwAdsClient.connect({ address, tls: { ca: trust, cert: b.certificateChainPem, key: b.privateKeyPem }, node: { id: 'b' } });
      clients.push(revoked);
      revoked.subscribe(SDS, ['default']);
      const st = await revoked.status;
      expect(st.code).toBe(16);
      expect(st.details).toMatch(/the client certificate \(serial [0-9a-f]+\) was revoked/);
      expect(revoked.responses.history).toHaveLength(0);

      // an expired certificate (CA clock moved past notAfter) is refused even though TLS let it through
      clock.set(Date.now() + 25 * 3600_000);
      const late = await SotwAdsClient.connect({ address, tls: { ca: trust, cert: a.certificateChainPem, key: a.privateKeyPem }, node: { id: 'late' } });
      clients.push(late);
      late.subscribe(SDS, ['default']);
      expect(await late.status).toMatchObject({ code: 16, details: expect.stringMatching(/expired/) });
    } finally {
      clients.forEach((c) => c.close());
      serving.close();
      await server.close();
      ca.close();
      other.close();
    }
  });
});

describe('stream activity', () => {
  it('an identity without streams for idleMs is deactivated (no more renewals); reconnecting re-activates it', async () => {
    const clock = createManualClock(Date.now());
    const ca = await newMeshCa({ clock });
    const secrets = createSecretsProvider(ca);
    const cache = createSnapshotCache();
    cache.setSnapshot('default', createSnapshot({ version: 'v1', resources: [] }));
    const server = createXdsServer({ cache, authenticate: createStreamAuthenticator(ca), secrets });
    secrets.connect((id) => server.notifySecretsChanged(id));
    const stop = trackStreamActivity(ca, server.fleet, { idleMs: 10 * 60_000 });
    const address = `127.0.0.1:${await server.listen()}`;
    try {
      const { token } = await ca.issueJoinToken(A);
      const c1 = await SotwAdsClient.connect({ address, node: { id: 'a1' }, metadata: { authorization: `Bearer ${token}` } });
      const c2 = await SotwAdsClient.connect({ address, node: { id: 'a2' }, metadata: { authorization: `Bearer ${token}` } });
      for (const c of [c1, c2]) c.subscribe(SDS, ['default']);
      await c1.responses.next();
      await c2.responses.next();
      expect(ca.activeIdentities()).toEqual([A]);
      c1.close();
      await eventually(() => server.fleet.size === 1, 3000, 'first stream gone');
      await clock.advance(11 * 60_000);
      expect(ca.activeIdentities()).toEqual([A]); // one stream still open
      c2.close();
      await eventually(() => server.fleet.size === 0, 3000, 'second stream gone');
      await clock.advance(9 * 60_000);
      expect(ca.activeIdentities()).toEqual([A]);
      await clock.advance(2 * 60_000);
      expect(ca.activeIdentities()).toEqual([]);
      const c3 = await SotwAdsClient.connect({ address, node: { id: 'a3' }, metadata: { authorization: `Bearer ${token}` } });
      c3.subscribe(SDS, ['default']);
      await c3.responses.next();
      expect(ca.activeIdentities()).toEqual([A]);
      c3.close();
    } finally {
      stop();
      await server.close();
      ca.close();
    }
  });
});
