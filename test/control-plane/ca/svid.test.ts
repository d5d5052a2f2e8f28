import { X509Certificate as NodeX509, createPrivateKey } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { CaError, parseWorkloadIdentity, type MeshCa } from '../../../control-plane/src/ca/index.js';
import { keyIdentifierOf } from '../../../control-plane/src/ca/svid.js';
import { x509 } from '../../../control-plane/src/ca/x509-runtime.js';
import { idOf, newMeshCa, splitCerts, TD, workloadPems } from './ca-test-kit.js';

describe('SPIFFE ID validation', () => {
  const good = [idOf('prod', 'model-a'), idOf('a', 'b'), `spiffe://${TD}/ns/${'n'.repeat(63)}/sa/x`];
  it.each(good)('accepts %s', (id) => {
    expect(parseWorkloadIdentity(id, TD).spiffeId).toBe(id);
  });
  const bad: [string, RegExp][] = [
    ['SPIFFE://mesh.test/ns/a/sa/b', /must start with 'spiffe:\/\/'/],
    ['spiffe://Mesh.Test/ns/a/sa/b', /trust domain/],
    ['spiffe://other.test/ns/a/sa/b', /trust domain 'other.test', not 'mesh.test'/],
    ['spiffe://mesh.test:8080/ns/a/sa/b', /trust domain/],
    ['spiffe://user@mesh.test/ns/a/sa/b', /trust domain/],
    ['spiffe://mesh.test/ns/a/sa/b/', /empty segment/],
    ['spiffe://mesh.test/ns//sa/b', /empty segment/],
    ['spiffe://mesh.test/ns/./sa/b', /'\.' and '\.\.'/],
    ['spiffe://mesh.test/ns/../sa/b', /'\.' and '\.\.'/],
    ['spiffe://mesh.test/ns/a/sa/b?x=1', /characters/],
    ['spiffe://mesh.test/ns/a/sa/b#f', /characters/],
    ['spiffe://mesh.test/ns/a%2f/sa/b', /characters/],
    ['spiffe://mesh.test/ns/A/sa/b', /RFC 1123/],
    ['spiffe://mesh.test/ns/a/sa/b_c', /RFC 1123/],
    ['spiffe://mesh.test/workload/a', /must have the form/],
    ['spiffe://mesh.test', /must have the form/],
    ['spiffe://mesh.test/ns/a/sa/b/extra', /must have the form/],
    [`spiffe://mesh.test/ns/a/sa/${'x'.repeat(2048)}`, /2048/],
  ];
  it.each(bad)('rejects %s', (id, reason) => {
    let err: unknown;
    try {
      parseWorkloadIdentity(id, TD);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CaError);
    expect((err as CaError).code).toBe('INVALID_SPIFFE_ID');
    expect((err as CaError).message).toMatch(reason);
    expect((err as CaError).message).toMatch(/^spiffeId: /);
  });
  it('rejects non-strings', () => {
    expect(() => parseWorkloadIdentity(42, TD)).toThrow(/spiffeId: must be a string/);
  });
});

describe('X.509-SVID contents', () => {
  const cas: MeshCa[] = [];
  afterAll(() => cas.forEach((c) => c.close()));

  it('has the SPIFFE ID as the only URI SAN, the right key usages, CA:false, AKI/SKI and a 24 h lifetime', async () => {
    const ca = await newMeshCa();
    cas.push(ca);
    const id = idOf('prod', 'model-a');
    const svid = await ca.currentCertificate(ca.parseIdentity(id));
    const cert = new x509.X509Certificate(svid.certificatePem);
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!;
    expect(san.critical).toBe(true); // empty subject => SAN must be critical (RFC 5280 4.2.1.6)
    expect(san.names.items.map((n) => [n.type, n.value])).toEqual([['url', id]]);
    expect(cert.subject).toBe('');
    const ku = cert.getExtension(x509.KeyUsagesExtension)!;
    expect(ku.critical).toBe(true);
    expect(ku.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);
    const bc = cert.getExtension(x509.BasicConstraintsExtension)!;
    expect(bc.ca).toBe(false);
    expect(bc.critical).toBe(true);
    const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
    const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId;
    expect(aki).toBe(ca.authority.active().id);
    // RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits (what `openssl x509 -ext subjectKeyIdentifier` shows for `hash`)
    const bits = new Uint8Array(new x509.X509Certificate(svid.certificatePem).publicKey.rawData);
    expect(ski).toBe(keyIdentifierOf(bits));
    expect(ski).not.toBe(aki);
    const life = cert.notAfter.getTime() - cert.notBefore.getTime();
    expect(life).toBe(24 * 3600_000 + 5 * 60_000); // 24 h + 5 min backdating for clock skew
    expect(await cert.verify({ publicKey: new x509.X509Certificate(ca.bundle().roots[0]!).publicKey, signatureOnly: true })).toBe(true);
    expect(svid.serialNumber).toBe(cert.serialNumber.toLowerCase());
    // the private key delivered with it is the certificate's key (SEC1 PEM for ECDSA)
    expect(svid.privateKeyPem).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);
    expect(new NodeX509(svid.certificatePem).checkPrivateKey(createPrivateKey(svid.privateKeyPem))).toBe(true);
    // recorded for operators
    const rec = await ca.getCertificate(svid.serialNumber);
    expect(rec).toMatchObject({ spiffeId: id, status: 'active', issuerKeyId: ca.authority.active().id, notAfter: cert.notAfter.toISOString() });
  });

  it('RSA leaves add keyEncipherment; lifetime is configurable', async () => {
    const ca = await newMeshCa({ workloadKeyAlgorithm: 'RSA_2048', workloadCertTtlMs: 3600_000 });
    cas.push(ca);
    const svid = await ca.currentCertificate(ca.parseIdentity(idOf('a', 'b')));
    const cert = new x509.X509Certificate(svid.certificatePem);
    expect(cert.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
    expect(new NodeX509(svid.certificatePem).checkPrivateKey(createPrivateKey(svid.privateKeyPem))).toBe(true);
    expect(svid.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBe(3600_000 + 5 * 60_000);
  });

  it('rejects bad options naming the field', async () => {
    await expect(newMeshCa({ workloadCertTtlMs: 10 })).rejects.toThrow(/workloadCertTtlMs: must be a number of milliseconds >= 60000/);
    await expect(newMeshCa({ workloadKeyAlgorithm: 'ECDSA_P384' })).rejects.toThrow(/workloadKeyAlgorithm: 'ECDSA_P384' is not one of ECDSA_P256, RSA_2048/);
    await expect(newMeshCa({ trustDomain: 'Bad_Domain:1' })).rejects.toThrow(/trustDomain: 'Bad_Domain:1' is not a SPIFFE trust domain/);
    await expect(newMeshCa({ renewAtFraction: 1 })).rejects.toThrow(/renewAtFraction/);
  });

  it('the generated CA is a P-256 root with CA:TRUE, keyCertSign/cRLSign and the trust domain URI', async () => {
    const ca = await newMeshCa();
    cas.push(ca);
    const root = new x509.X509Certificate(ca.bundle().roots[0]!);
    expect(root.getExtension(x509.BasicConstraintsExtension)!.ca).toBe(true);
    expect(root.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(root.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => n.value)).toEqual([`spiffe://${TD}`]);
    expect(new NodeX509(ca.bundle().roots[0]!).publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(ca.authority.active().keyAlgorithm).toBe('ECDSA_P256');
    // the chain a self-signed root's leaf presents is the leaf alone
    const pems = await workloadPems(ca, idOf('a', 'b'));
    expect(splitCerts(pems.chain)).toHaveLength(1);
  });
});
