import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '@bufbuild/protobuf';
import type { Secret } from '../../../control-plane/src/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { SotwAdsClient } from '../../xds-clients/sotw-ads-client.js';
import { DeltaAdsClient } from '../../xds-clients/delta-ads-client.js';
import {
  TypeUrl,
  XdsError,
  createSnapshot,
  createSnapshotCache,
  createXdsServer,
  createXdsServerCredentials,
  type Authenticate,
  type SecretSource,
  type StreamAuthContext,
  type XdsServer,
} from './support.js';
import { meshResources, secretsOf } from './fixtures.js';
import { TRANSPORTS, eventually } from './harness.js';
import { createTestPki, type TestPki } from './test-pki.js';
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';

const SDS = TypeUrl.Secret;
const ALICE = 'spiffe://mesh.local/ns/prod/sa/alice';
const BOB = 'spiffe://mesh.local/ns/prod/sa/bob';
const TOKENS: Record<string, string> = { 'token-alice': ALICE, 'token-bob': BOB };

/** Join-token style authenticator: `authorization: Bearer <token>`, or a verified client cert's URI SAN. */
const authenticate: Authenticate = (ctx: StreamAuthContext) => {
  const san = ctx.peerCertificate?.subjectaltname;
  if (san !== undefined) {
    const uri = san.split(', ').find((s) => s.startsWith('URI:'));
    if (uri !== undefined) return { id: uri.slice(4), method: 'mtls' };
  }
  const header = ctx.metadata.get('authorization')[0];
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) throw new XdsError('UNAUTHENTICATED', 'authorization: missing join token');
  const id = TOKENS[header.slice(7)];
  if (id === undefined) throw new XdsError('PERMISSION_DENIED', 'authorization: join token not recognised');
  return { id, method: 'join-token' };
};

function secretText(m: Message): string {
  const s = m as Secret;
  if (s.type.case === 'tlsCertificate') {
    const c = s.type.value;
    return `${c.certificateChain?.specifier.value as string}|${c.privateKey?.specifier.value as string}`;
  }
  if (s.type.case === 'validationContext') return s.type.value.trustedCa?.specifier.value as string;
  return '?';
}

let generation: Record<string, number> = {};
let refuse: Record<string, Error> = {};
const calls: string[] = [];
const source: SecretSource = {
  secretsFor(identity) {
    calls.push(identity.id);
    const r = refuse[identity.id];
    if (r !== undefined) throw r;
    return secretsOf(identity.id, generation[identity.id] ?? 1);
  },
};

describe('stream authentication and per-identity SDS', () => {
  let server: XdsServer;
  let address: string;
  const open: Array<{ close(): void }> = [];

  beforeAll(async () => {
    const cache = createSnapshotCache();
    cache.setSnapshot('role=sidecar', createSnapshot({ version: 'v1', resources: meshResources() }));
    server = createXdsServer({
      cache,
      authenticate,
      secrets: source,
      authorizeNode: (identity, node) => {
        if (node.id.startsWith('evil-')) throw new XdsError('PERMISSION_DENIED', `node "${node.id}" may not act for ${identity?.id}`);
      },
    });
    address = `127.0.0.1:${await server.listen()}`;
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
    calls.length = 0;
    generation = {};
    refuse = {};
  });
  afterAll(async () => server.close());

  const sotw = async (id: string, token?: string) => {
    const c = await SotwAdsClient.connect({ address, node: { id, metadata: { role: 'sidecar' } }, ...(token ? { metadata: { authorization: `Bearer ${token}` } } : {}) });
    open.push(c);
    return c;
  };

  it('a stream without credential ends with UNAUTHENTICATED and receives nothing', async () => {
    const c = await sotw('anon');
    c.subscribe(SDS, ['default', 'ROOTCA']);
    c.subscribe(TypeUrl.Cluster, []);
    expect(await c.status).toEqual({ code: 16, details: 'authorization: missing join token' });
    expect(c.responses.history).toHaveLength(0);
  });

  it('a stream with a bad token ends with PERMISSION_DENIED and receives nothing', async () => {
    const c = await sotw('mallory', 'token-mallory');
    c.subscribe(SDS, ['default']);
    expect(await c.status).toEqual({ code: 7, details: 'authorization: join token not recognised' });
    expect(c.responses.history).toHaveLength(0);
  });

  it('authorizeNode can refuse a node for an identity', async () => {
    const c = await sotw('evil-node', 'token-alice');
    c.subscribe(SDS, ['default']);
    expect(await c.status).toEqual({ code: 7, details: `node "evil-node" may not act for ${ALICE}` });
    expect(c.responses.history).toHaveLength(0);
  });

  it('each identity gets only its own secrets, whatever names it asks for; the fleet shows the identity', async () => {
    const alice = await sotw('alice-1', 'token-alice');
    const bob = await sotw('bob-1', 'token-bob');
    for (const c of [alice, bob]) c.subscribe(SDS, ['default', 'ROOTCA', 'bob', BOB, ALICE]);
    const ra = await alice.responses.next((r) => r.typeUrl === SDS);
    const rb = await bob.responses.next((r) => r.typeUrl === SDS);
    expect(ra.names).toEqual(['ROOTCA', 'default']);
    expect(secretText(ra.resources.get('default')!)).toBe(`CERT(${ALICE}#1)|KEY(${ALICE}#1)`);
    expect(secretText(rb.resources.get('default')!)).toBe(`CERT(${BOB}#1)|KEY(${BOB}#1)`);
    for (const r of [...alice.responses.history, ...bob.responses.history]) {
      const mine = r === ra ? ALICE : BOB;
      for (const m of r.resources.values()) expect(secretText(m)).not.toContain(mine === ALICE ? BOB : ALICE);
    }
    expect(server.fleet.byNode('alice-1')[0]!.identity).toEqual({ id: ALICE, method: 'join-token' });
  });

  it('notifySecretsChanged(id) re-reads and pushes to that identity only, sharing one read among its streams', async () => {
    const a1 = await sotw('alice-a', 'token-alice');
    const a2 = await DeltaAdsClient.connect({ address, node: { id: 'alice-b', metadata: { role: 'sidecar' } }, metadata: { authorization: 'Bearer token-alice' } });
    open.push(a2);
    const b = await sotw('bob-a', 'token-bob');
    a1.subscribe(SDS, ['default']);
    a2.subscribe(SDS, ['default']);
    b.subscribe(SDS, ['default']);
    const first = await a1.responses.next();
    await a2.responses.next();
    await b.responses.next();
    calls.length = 0;
    generation[ALICE] = 2;
    await server.notifySecretsChanged(ALICE);
    expect(calls).toEqual([ALICE]);
    const pushed = await a1.responses.next();
    expect(pushed.versionInfo).not.toBe(first.versionInfo);
    expect(secretText(pushed.resources.get('default')!)).toBe(`CERT(${ALICE}#2)|KEY(${ALICE}#2)`);
    const d = await a2.responses.next();
    expect(d.updated).toEqual(['default']);
    expect(secretText(a2.view(SDS).resources.get('default')!)).toBe(`CERT(${ALICE}#2)|KEY(${ALICE}#2)`);
    await b.responses.none(() => true, 200);
    // Unchanged content: nothing is pushed.
    await server.notifySecretsChanged(ALICE);
    await a1.responses.none(() => true, 150);
  });

  it('a transient secretsFor failure keeps the streams; a refusal (PERMISSION_DENIED, e.g. revoked) ends only that identity\'s streams', async () => {
    const a = await sotw('alice-r', 'token-alice');
    const d = await DeltaAdsClient.connect({ address, node: { id: 'alice-rd', metadata: { role: 'sidecar' } }, metadata: { authorization: 'Bearer token-alice' } });
    open.push(d);
    const b = await sotw('bob-r', 'token-bob');
    for (const c of [a, d, b]) c.subscribe(SDS, ['default']);
    await a.responses.next();
    await d.responses.next();
    await b.responses.next();
    refuse[ALICE] = new Error('CA store temporarily unavailable');
    await server.notifySecretsChanged(ALICE);
    await a.responses.none(() => true, 150);
    expect(server.fleet.byNode('alice-r')).toHaveLength(1);
    refuse[ALICE] = Object.assign(new Error(`identity ${ALICE} is blocked: its certificate was revoked`), { code: 'PERMISSION_DENIED' });
    await server.notifySecretsChanged(ALICE);
    for (const st of [await a.status, await d.status]) expect(st).toEqual({ code: 7, details: `identity ${ALICE} is blocked: its certificate was revoked` });
    expect(server.fleet.byNode('bob-r')).toHaveLength(1);
    // A new stream of the refused identity is ended as soon as its secrets are read.
    const again = await sotw('alice-r2', 'token-alice');
    again.subscribe(SDS, ['default']);
    expect((await again.status).code).toBe(7);
    expect(again.responses.history.filter((r) => r.typeUrl === SDS)).toHaveLength(0);
  });

  it('secrets never come from group snapshots: a stream of an identity-less server gets none', async () => {
    const cache = createSnapshotCache();
    cache.setSnapshot('role=sidecar', createSnapshot({ version: 'v1', resources: meshResources() }));
    const plain = createXdsServer({ cache, secrets: source });
    const port = await plain.listen();
    const c = await SotwAdsClient.connect({ address: `127.0.0.1:${port}`, node: { id: 'n', metadata: { role: 'sidecar' } } });
    open.push(c);
    c.subscribe(SDS, ['default', 'ROOTCA']);
    c.subscribe(TypeUrl.Cluster, []);
    await c.responses.next((r) => r.typeUrl === TypeUrl.Cluster);
    await c.responses.none((r) => r.typeUrl === SDS, 200);
    expect(calls).toEqual([]);
    c.close();
    await plain.close();
  });
});

describe.each(TRANSPORTS)('TLS and mTLS on the xDS connection (transport %s)', (transport) => {
  let pki: TestPki;
  beforeAll(() => {
    pki = createTestPki();
  });
  afterAll(() => pki.dispose());

  it('optional client certificates: a verified certificate authenticates the stream; a foreign one falls back to the token; none → refused', async () => {
    const cache = createSnapshotCache();
    cache.setSnapshot('role=sidecar', createSnapshot({ version: 'v1', resources: meshResources() }));
    const seen: Array<string | undefined> = [];
    const server = createXdsServer({
      cache,
      secrets: source,
      authenticate: (ctx) => {
        seen.push(ctx.transportSecurityType);
        return authenticate(ctx);
      },
    });
    const creds = createXdsServerCredentials({ mode: 'tls', certificateChain: pki.serverCert, privateKey: pki.serverKey, clientCa: pki.caPem, clientCertificates: 'optional' });
    const port = await server.listen({ credentials: creds, transport });
    const address = `127.0.0.1:${port}`;
    const bobCert = pki.client(BOB);
    const viaCert = await SotwAdsClient.connect({ address, tls: { ca: pki.caPem, ...bobCert }, node: { id: 'bob-tls', metadata: { role: 'sidecar' } } });
    viaCert.subscribe(SDS, ['default']);
    const r = await viaCert.responses.next();
    expect(secretText(r.resources.get('default')!)).toContain(`KEY(${BOB}#1)`);
    expect(server.fleet.byNode('bob-tls')[0]!.identity).toEqual({ id: BOB, method: 'mtls' });
    // A certificate from another CA is not reported to authenticate (not verified): token decides.
    const foreign = await SotwAdsClient.connect({ address, tls: { ca: pki.caPem, ...pki.foreign }, node: { id: 'f', metadata: { role: 'sidecar' } } });
    foreign.subscribe(SDS, ['default']);
    expect((await foreign.status).code).toBe(16);
    expect(foreign.responses.history).toHaveLength(0);
    const noCert = await SotwAdsClient.connect({ address, tls: { ca: pki.caPem }, node: { id: 'n', metadata: { role: 'sidecar' } }, metadata: { authorization: 'Bearer token-alice' } });
    noCert.subscribe(SDS, ['default']);
    expect(secretText((await noCert.responses.next()).resources.get('default')!)).toContain(ALICE);
    expect(seen.every((s) => s === 'ssl' || s === undefined)).toBe(true);
    for (const c of [viaCert, foreign, noCert]) c.close();
    await server.close();
  });

  it('required client certificates: a client without one cannot even connect', async () => {
    const cache = createSnapshotCache();
    const server = createXdsServer({ cache, authenticate });
    const creds = createXdsServerCredentials({ mode: 'tls', certificateChain: pki.serverCert, privateKey: pki.serverKey, clientCa: pki.caPem, clientCertificates: 'required' });
    const port = await server.listen({ credentials: creds, transport });
    const failed = await SotwAdsClient.connect({ address: `127.0.0.1:${port}`, tls: { ca: pki.caPem }, node: { id: 'n' } }).then(
      async (c) => {
        c.subscribe(SDS, ['default']);
        const st = await c.status;
        c.close();
        return st.code !== 0;
      },
      () => true,
    );
    expect(failed).toBe(true);
    // With a certificate from the CA the same server serves the stream.
    const ok = await SotwAdsClient.connect({ address: `127.0.0.1:${port}`, tls: { ca: pki.caPem, ...pki.client(ALICE) }, node: { id: 'ok' } });
    ok.subscribe(TypeUrl.Cluster, []);
    await eventually(() => server.fleet.byNode('ok')[0]?.identity?.id === ALICE);
    ok.close();
    await server.close();
  });

  it('update() rotates the serving certificate for new connections without a restart', async () => {
    const server = createXdsServer({ cache: createSnapshotCache() });
    const creds = createXdsServerCredentials({ mode: 'tls', certificateChain: pki.serverCert, privateKey: pki.serverKey });
    const port = await server.listen({ credentials: creds, transport });
    const presented = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = tlsConnect({ host: '127.0.0.1', port, ALPNProtocols: ['h2'], rejectUnauthorized: false }, () => {
          const cert = socket.getPeerCertificate();
          socket.destroy();
          resolve(cert.fingerprint256);
        });
        socket.on('error', reject);
      });
    const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;
    expect(await presented()).toBe(fingerprint(pki.serverCert));
    const next = pki.client('spiffe://mesh.local/ns/cp/sa/xds-next');
    creds.update({ certificateChain: next.cert, privateKey: next.key });
    // grpc-js applies certificate updates asynchronously; new connections see them shortly after.
    let served = '';
    for (let i = 0; i < 60 && served !== fingerprint(next.cert); i++) {
      served = await presented();
      if (served !== fingerprint(next.cert)) await new Promise((r) => setTimeout(r, 50));
    }
    expect(served).toBe(fingerprint(next.cert));
    await server.close();
  });

  it('listen() refuses what a transport cannot use, naming the field', async () => {
    const creds = createXdsServerCredentials({ mode: 'tls', certificateChain: pki.serverCert, privateKey: pki.serverKey });
    const bare = createXdsServer({ cache: createSnapshotCache() });
    if (transport === 'h2') {
      // A bare grpc-js ServerCredentials holds no PEM the h2 transport could use.
      await expect(bare.listen({ credentials: creds.credentials, transport })).rejects.toThrow(/^credentials: the h2 transport needs the object createXdsServerCredentials\(\) returns/);
    } else {
      // grpc-js takes either form.
      const port = await bare.listen({ credentials: creds.credentials, transport });
      expect(port).toBeGreaterThan(0);
    }
    await bare.close();
    const other = createXdsServer({ cache: createSnapshotCache() });
    await expect(other.listen({ transport: 'http3' as 'h2' })).rejects.toThrow(/^transport: must be 'h2' or 'grpc-js', got "http3"/);
    await other.close();
  });

  it('bad credential options are refused with the field named', () => {
    expect(() => createXdsServerCredentials({ mode: 'tls', certificateChain: 'x', privateKey: 'y', clientCertificates: 'required' })).toThrow(/^clientCa: required/);
    expect(() => createXdsServerCredentials({ mode: 'tls', certificateChain: 'x', privateKey: 'y', clientCertificates: 'maybe' as 'none' })).toThrow(/^clientCertificates: /);
  });
});
