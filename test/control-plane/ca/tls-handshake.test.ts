import { X509Certificate } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createManualClock, type MeshCa } from '../../../control-plane/src/ca/index.js';
import { idOf, mutualHandshake, newMeshCa, opensslVerify, splitCerts, workloadPems } from './ca-test-kit.js';

const A = idOf('prod', 'model-a');
const B = idOf('prod', 'gateway');

describe('real TLS handshakes with certificates exactly as SDS delivers them', () => {
  const cas: MeshCa[] = [];
  afterAll(() => cas.forEach((c) => c.close()));
  const make = async (...args: Parameters<typeof newMeshCa>): Promise<MeshCa> => {
    const ca = await newMeshCa(...args);
    cas.push(ca);
    return ca;
  };

  it('completes a mutual handshake and each side sees the other SPIFFE ID', async () => {
    const ca = await make();
    const a = await workloadPems(ca, A);
    const b = await workloadPems(ca, B);
    const r = await mutualHandshake(a, b, { serverId: A, clientId: B });
    expect(r).toMatchObject({ ok: true, serverIdSeenByClient: A, clientIdSeenByServer: B });
    const back = await mutualHandshake(b, a, { serverId: B, clientId: A, useCrl: true });
    expect(back).toMatchObject({ ok: true, serverIdSeenByClient: B, clientIdSeenByServer: A });
  });

  it('works with RSA workload keys too', async () => {
    const ca = await make({ workloadKeyAlgorithm: 'RSA_2048', caKeyAlgorithm: 'RSA_2048' });
    const a = await workloadPems(ca, A);
    const b = await workloadPems(ca, B);
    expect(await mutualHandshake(a, b, { serverId: A, clientId: B, useCrl: true })).toMatchObject({ ok: true });
    const leaf = new X509Certificate(splitCerts(a.chain)[0]!);
    expect(leaf.publicKey.asymmetricKeyType).toBe('rsa');
  });

  it('refuses a certificate from another CA, in both directions', async () => {
    const ca = await make();
    const other = await make();
    const a = await workloadPems(ca, A);
    const foreign = await workloadPems(other, B);
    const r1 = await mutualHandshake(a, foreign, { serverId: A, clientId: B });
    expect(r1.ok).toBe(false);
    const r2 = await mutualHandshake(foreign, a, { serverId: B, clientId: A });
    expect(r2.ok).toBe(false);
    expect(r2.error).toMatch(/certificate|verify|issuer/i);
  });

  it('refuses an expired certificate', async () => {
    const clock = createManualClock(Date.now() - 3 * 24 * 3600 * 1000);
    const ca = await make({ clock });
    const expired = await workloadPems(ca, B); // valid for 24 h, three days ago
    clock.set(Date.now());
    const a = await workloadPems(ca, A);
    const asClient = await mutualHandshake(a, expired, { serverId: A, clientId: B });
    expect(asClient.ok).toBe(false);
    const asServer = await mutualHandshake(expired, a, { serverId: B, clientId: A });
    expect(asServer.ok).toBe(false);
    expect(asServer.error).toMatch(/expired/i);
  });

  it('refuses a certificate with the wrong SAN (explicit SPIFFE ID check)', async () => {
    const ca = await make();
    const a = await workloadPems(ca, A);
    const b = await workloadPems(ca, B);
    // The client expects to talk to A but the server presents B's (valid, same CA) certificate.
    const r = await mutualHandshake(b, a, { serverId: A, clientId: A });
    expect(r.ok).toBe(false);
    expect(r.error).toContain(`is not ${A}`);
    // And a server that expects a specific client refuses another identity.
    const r2 = await mutualHandshake(a, b, { serverId: A, clientId: idOf('prod', 'someone-else') });
    expect(r2.ok).toBe(false);
  });

  it('openssl verify accepts the chain and rejects a foreign one', async () => {
    const ca = await make();
    const other = await make();
    const a = await workloadPems(ca, A);
    const leaf = splitCerts(a.chain)[0]!;
    const ok = opensslVerify({ bundle: a.trustedCa, chain: splitCerts(a.chain).slice(1).join(''), leaf });
    expect(ok.output).toContain(': OK');
    expect(ok.ok).toBe(true);
    expect(opensslVerify({ bundle: a.trustedCa, leaf, crl: a.crl }).ok).toBe(true);
    const foreign = await workloadPems(other, A);
    const bad = opensslVerify({ bundle: a.trustedCa, leaf: splitCerts(foreign.chain)[0]! });
    expect(bad.ok).toBe(false);
    expect(bad.output).toMatch(/unable to get local issuer certificate/);
  });

  it('a revoked certificate is refused by peers once they hold the new ROOTCA (CRL)', async () => {
    const ca = await make();
    const a = await workloadPems(ca, A);
    const b = await workloadPems(ca, B);
    const bLeaf = new X509Certificate(splitCerts(b.chain)[0]!);
    await ca.revokeCertificate(bLeaf.serialNumber, 'key compromise drill');
    const aAfter = await workloadPems(ca, A); // A's next push: same key pair, new ROOTCA with the CRL
    expect(aAfter.key).toBe(a.key);
    expect(aAfter.crl).not.toBe(a.crl);
    // A as server refuses B as client ...
    const r = await mutualHandshake(aAfter, b, { serverId: A, clientId: B, useCrl: true });
    expect(r.ok).toBe(false);
    // ... and A as client refuses B as server, naming the reason.
    const r2 = await mutualHandshake(b, aAfter, { serverId: B, clientId: A, useCrl: true });
    expect(r2.ok).toBe(false);
    expect(r2.error).toMatch(/revoked/i);
    // Before the push (old ROOTCA without the entry) the same handshake still worked.
    expect(await mutualHandshake(b, a, { serverId: B, clientId: A, useCrl: true })).toMatchObject({ ok: true });
    expect(opensslVerify({ bundle: aAfter.trustedCa, leaf: splitCerts(b.chain)[0]!, crl: aAfter.crl }).output).toMatch(/revoked/);
    // An unrevoked peer still passes with the CRL in force.
    const c = await workloadPems(ca, idOf('prod', 'c'));
    expect(await mutualHandshake(aAfter, c, { serverId: A, clientId: idOf('prod', 'c'), useCrl: true })).toMatchObject({ ok: true });
  });
});
