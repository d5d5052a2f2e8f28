import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { create } from '@bufbuild/protobuf';
import { Metadata } from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeSchema } from '../../../control-plane/src/gen/envoy/config/core/v3/base_pb.js';
import {
  createManualClock,
  createNodeAuthorizer,
  createStreamAuthenticator,
  type MeshCa,
} from '../../../control-plane/src/ca/index.js';
import { XdsError } from '../../../control-plane/src/xds/errors.js';
import type { StreamAuthContext } from '../../../control-plane/src/xds/stream-auth.js';
import { idOf, newMeshCa } from './ca-test-kit.js';

const A = idOf('prod', 'a');
const cas: MeshCa[] = [];
afterAll(() => cas.forEach((c) => c.close()));

function ctx(opts: { token?: string; certPem?: string } = {}): StreamAuthContext {
  const metadata = new Metadata();
  if (opts.token !== undefined) metadata.add('authorization', `Bearer ${opts.token}`);
  const peerCertificate = opts.certPem ? ({ raw: new X509Certificate(opts.certPem).raw } as PeerCertificate) : undefined;
  return { metadata, peerCertificate, transportSecurityType: opts.certPem ? 'ssl' : undefined, peer: '127.0.0.1:1', protocol: 'sotw' };
}

async function refusal(p: Promise<unknown>): Promise<XdsError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(XdsError);
  return err as XdsError;
}

describe('createStreamAuthenticator', () => {
  it('join token → identity of the token, method join-token', async () => {
    const ca = await newMeshCa();
    cas.push(ca);
    const auth = createStreamAuthenticator(ca);
    const { token, record } = await ca.issueJoinToken(A);
    expect(await auth(ctx({ token }))).toEqual({
      id: A,
      method: 'join-token',
      attributes: { trustDomain: 'mesh.test', namespace: 'prod', serviceAccount: 'a', joinTokenId: record.tokenId },
    });
  });

  it('client certificate → identity of its SAN, method mtls; revoked/expired/foreign refused', async () => {
    const clock = createManualClock(Date.now());
    const ca = await newMeshCa({ clock });
    const other = await newMeshCa();
    cas.push(ca, other);
    const auth = createStreamAuthenticator(ca);
    const svid = await ca.currentCertificate(ca.parseIdentity(A));
    expect(await auth(ctx({ certPem: svid.certificatePem }))).toMatchObject({ id: A, method: 'mtls', attributes: { certificateSerial: svid.serialNumber } });
    const foreign = await other.currentCertificate(other.parseIdentity(A));
    const e1 = await refusal(Promise.resolve(auth(ctx({ certPem: foreign.certificatePem }))));
    expect(e1).toMatchObject({ code: 'UNAUTHENTICATED', message: 'the client certificate was not issued by a CA in the current trust bundle' });
    // a serving certificate (extra SANs) is not a workload identity
    const serving = await ca.servingCertificate({ dnsNames: ['xds.mesh.test'] });
    const e2 = await refusal(Promise.resolve(auth(ctx({ certPem: serving.current().certificateChain }))));
    expect(e2.message).toMatch(/exactly one SAN, a SPIFFE ID URI; found 2/);
    serving.close();
    clock.set(svid.notAfterMs + 1000);
    expect((await refusal(Promise.resolve(auth(ctx({ certPem: svid.certificatePem }))))).message).toMatch(/expired/);
  });

  it('a failing certificate falls back to a valid join token; both failing name both reasons', async () => {
    const ca = await newMeshCa();
    const other = await newMeshCa();
    cas.push(ca, other);
    const auth = createStreamAuthenticator(ca);
    const foreign = await other.currentCertificate(other.parseIdentity(A));
    const { token } = await ca.issueJoinToken(A);
    expect(await auth(ctx({ certPem: foreign.certificatePem, token }))).toMatchObject({ id: A, method: 'join-token' });
    const e = await refusal(Promise.resolve(auth(ctx({ certPem: foreign.certificatePem, token: `mwj_${'x'.repeat(43)}` }))));
    expect(e.message).toMatch(/not issued by a CA in the current trust bundle; join token is not known/);
  });

  it('honours allowJoinTokens / allowMtls', async () => {
    const ca = await newMeshCa();
    cas.push(ca);
    const { token } = await ca.issueJoinToken(A);
    const mtlsOnly = createStreamAuthenticator(ca, { allowJoinTokens: false });
    expect((await refusal(Promise.resolve(mtlsOnly(ctx({ token }))))).message).toBe('no credential: present a client certificate issued by the mesh CA');
    const svid = await ca.currentCertificate(ca.parseIdentity(A));
    const tokenOnly = createStreamAuthenticator(ca, { allowMtls: false });
    expect((await refusal(Promise.resolve(tokenOnly(ctx({ certPem: svid.certificatePem }))))).code).toBe('UNAUTHENTICATED');
  });
});

describe('createNodeAuthorizer', () => {
  const node = (metadata: Record<string, string>) => create(NodeSchema, { id: 'n', metadata });
  it('refuses a node that claims another identity or workload', () => {
    const authorize = createNodeAuthorizer({ workloadIdentityOf: (k) => ({ 'prod/a': A, 'prod/b': idOf('prod', 'b') })[k] });
    const me = { id: A, method: 'join-token' };
    expect(() => authorize(me, node({ 'meshward.identity': A, 'meshward.workload': 'prod/a' }))).not.toThrow();
    expect(() => authorize(me, node({ 'meshward.identity': idOf('prod', 'b') }))).toThrow(/does not match the stream's identity/);
    expect(() => authorize(me, node({ 'meshward.workload': 'prod/b' }))).toThrow(/runs as spiffe:\/\/mesh.test\/ns\/prod\/sa\/b, not as/);
    expect(() => authorize(me, node({ 'meshward.workload': 'prod/zzz' }))).toThrow(/names no known workload/);
    expect(() => authorize(undefined, node({ 'meshward.identity': 'x' }))).not.toThrow();
  });
});
