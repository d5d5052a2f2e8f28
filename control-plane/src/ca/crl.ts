/**
 * Certificate revocation lists, one per issuing authority, signed with its key.
 *
 * Envoy has no OCSP here and no CRL fetching: the CRLs travel inline in the `ROOTCA` validation
 * context (`crl` field) together with `only_verify_leaf_cert_crl: true`, so peers refuse a revoked
 * workload certificate at the next push. Envoy needs a CRL for the issuer of every leaf it checks,
 * so every authority in the bundle gets one, empty or not.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { CRLNumber, id_ce_cRLNumber } from '@peculiar/asn1-x509';
import type { IssuingAuthority } from './authority.js';
import type { IssuedCertificateRecord } from './issued-certificate-store.js';
import { derToPem } from './svid.js';
import { x509 } from './x509-runtime.js';

/** Clock-skew allowance: CRLs (and leaves) are dated this far back so a peer slightly behind accepts them. */
export const BACKDATE_MS = 5 * 60_000;

export async function buildCrl(
  authority: IssuingAuthority,
  revoked: readonly IssuedCertificateRecord[],
  crlNumber: number,
  nowMs: number,
  validityMs: number,
): Promise<string> {
  const cert = new x509.X509Certificate(authority.certificate.raw);
  const crl = await x509.X509CrlGenerator.create({
    issuer: cert.subjectName,
    thisUpdate: new Date(nowMs - BACKDATE_MS),
    nextUpdate: new Date(nowMs + validityMs),
    signingAlgorithm: authority.signer.webCryptoSigning as never,
    signingKey: (await authority.cryptoKey()) as never,
    extensions: [
      new x509.AuthorityKeyIdentifierExtension(authority.info.id),
      new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(crlNumber))),
    ],
    entries: revoked.map((r) => ({
      serialNumber: r.serialNumber,
      revocationDate: new Date(r.revokedAt ?? nowMs),
      reason: x509.X509CrlReason.unspecified,
    })),
  });
  // OpenSSL (hence Envoy) only reads the RFC 7468 label 'X509 CRL'.
  return derToPem(new Uint8Array(crl.rawData), 'X509 CRL');
}
