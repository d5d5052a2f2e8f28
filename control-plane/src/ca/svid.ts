/**
 * X.509-SVID issuance: one leaf certificate for one workload identity.
 *
 * Built with @peculiar/asn1-x509's schema types (the typed ASN.1 layer under @peculiar/x509) and
 * signed with Node's native crypto: the same library, minus the re-parsing the high-level generator
 * does, which keeps issuance above 1,000 certificates/s on two cores. The constant extensions and
 * the issuer name are encoded once per issuing authority (see {@link SvidTemplate}).
 */
import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import { ECParameters } from '@peculiar/asn1-ecc';
import { AsnConvert, AsnSerializer, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AuthorityKeyIdentifier,
  BasicConstraints,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  id_kp_serverAuth,
} from '@peculiar/asn1-x509';
import { derToPem, type Signer, type WorkloadKeyPair } from './key-material.js';
import { isRsa } from './key-material.js';
import type { WorkloadIdentity } from './workload-identity.js';

/** Per-authority, precomputed parts of every leaf it signs. */
export interface SvidTemplate {
  readonly signer: Signer;
  /** The issuer's subject, re-used byte for byte as every leaf's issuer. */
  readonly issuerName: Name;
  /** Hex SKI of the issuing certificate (AKI of every leaf). */
  readonly issuerKeyId: string;
  /** The signature AlgorithmIdentifier, pre-encoded. */
  readonly signatureAlgorithm: AlgorithmIdentifier;
  /** asn1js tree of the signature AlgorithmIdentifier (shared, read-only). */
  readonly signatureAlgorithmTree: asn1js.AsnType;
  readonly ecExtensions: readonly Extension[];
  readonly rsaExtensions: readonly Extension[];
}

/**
 * A schema value encoded once and parsed back into an asn1js tree that the serializer re-uses for
 * every certificate (asn1-schema takes any object with toASN/fromASN as already converted).
 */
function preEncoded<T>(value: T): T {
  const parsed = asn1js.fromBER(AsnConvert.serialize(value));
  if (parsed.offset === -1) throw new Error(`cannot pre-encode ${String(value)}: ${parsed.result.error}`);
  const tree = parsed.result;
  return {
    toASN: () => tree,
    fromASN: () => {
      throw new Error('pre-encoded values are write-only');
    },
  } as unknown as T;
}

/** id-ecPublicKey with the P-256 named curve (RFC 5480), pre-encoded. */
const EC_P256_ALGORITHM = preEncoded(
  new AlgorithmIdentifier({
    algorithm: '1.2.840.10045.2.1',
    parameters: AsnConvert.serialize(new ECParameters({ namedCurve: '1.2.840.10045.3.1.7' })),
  }),
);

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** Precomputes the constant parts of leaves for an issuer (its subject DER and SKI hex). */
export function createSvidTemplate(signer: Signer, issuerSubjectDer: ArrayBuffer | Uint8Array, issuerKeyId: string): SvidTemplate {
  const issuerName = preEncoded(AsnConvert.parse(issuerSubjectDer, Name));
  const common = [
    extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: false })),
    extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage([id_kp_serverAuth, id_kp_clientAuth])),
    extension(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(Buffer.from(issuerKeyId, 'hex')) })),
  ].map(preEncoded);
  const ku = (flags: number): Extension => preEncoded(extension(id_ce_keyUsage, true, new KeyUsage(flags)));
  return {
    signer,
    issuerName,
    issuerKeyId,
    signatureAlgorithm: preEncoded(signer.signatureAlgorithm),
    signatureAlgorithmTree: asn1js.fromBER(AsnConvert.serialize(signer.signatureAlgorithm)).result,
    ecExtensions: [ku(KeyUsageFlags.digitalSignature), ...common],
    rsaExtensions: [ku(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment), ...common],
  };
}

/** A positive, non-zero 128-bit serial number as lower-case hex (RFC 5280 §4.1.2.2: ≤ 20 octets). */
export function newSerialNumber(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x40;
  return b.toString('hex');
}

/** Key identifier of a public key: SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1). */
export function keyIdentifierOf(spkiDer: Uint8Array): string {
  const spki = AsnConvert.parse(spkiDer, SubjectPublicKeyInfo);
  return createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest('hex');
}

/**
 * DNS / IP SANs for a *serving* certificate (the control plane's own xDS endpoint, which clients
 * reach by host name or address). Workload SVIDs never carry them: their SPIFFE ID is their only SAN.
 */
export interface ServerNames {
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

export interface SignedLeaf {
  readonly serialNumber: string;
  readonly certificateDer: Buffer;
  readonly certificatePem: string;
  readonly subjectKeyId: string;
}

/**
 * Signs an X.509-SVID: empty subject, the SPIFFE ID as the only (critical) URI SAN (plus
 * `serverNames` for the control plane's serving certificate only), CA:false,
 * digitalSignature (+ keyEncipherment for RSA), serverAuth + clientAuth, SKI and AKI.
 */
export function signSvid(
  template: SvidTemplate,
  identity: WorkloadIdentity,
  key: WorkloadKeyPair,
  validity: { readonly notBefore: Date; readonly notAfter: Date },
  serialNumber: string = newSerialNumber(),
  serverNames: ServerNames = {},
): SignedLeaf {
  let spki: SubjectPublicKeyInfo;
  let subjectKeyId: string;
  if (key.publicKey.kind === 'ec-point') {
    const point = key.publicKey.point;
    spki = new SubjectPublicKeyInfo({ algorithm: EC_P256_ALGORITHM, subjectPublicKey: toArrayBuffer(point) });
    subjectKeyId = createHash('sha1').update(point).digest('hex');
  } else {
    // The key's SPKI is already DER: hand its parsed tree to the serializer as is.
    const spkiTree = asn1js.fromBER(key.publicKey.der).result;
    const bits = spkiTree instanceof asn1js.Sequence ? spkiTree.valueBlock.value[1] : undefined;
    if (!(bits instanceof asn1js.BitString)) throw new Error('the generated public key is not a SubjectPublicKeyInfo');
    spki = { toASN: () => spkiTree, fromASN: () => spki } as unknown as SubjectPublicKeyInfo;
    subjectKeyId = createHash('sha1').update(bits.valueBlock.valueHexView).digest('hex');
  }
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: toArrayBuffer(Buffer.from(serialNumber, 'hex')),
    signature: template.signatureAlgorithm,
    issuer: template.issuerName,
    validity: new Validity({ notBefore: validity.notBefore, notAfter: validity.notAfter }),
    subject: new Name(),
    subjectPublicKeyInfo: spki,
    extensions: new Extensions([
      ...(isRsa(key.algorithm) ? template.rsaExtensions : template.ecExtensions),
      extension(
        id_ce_subjectAltName,
        true,
        new SubjectAlternativeName([
          new GeneralName({ uniformResourceIdentifier: identity.spiffeId }),
          ...(serverNames.dnsNames ?? []).map((dNSName) => new GeneralName({ dNSName })),
          ...(serverNames.ipAddresses ?? []).map((iPAddress) => new GeneralName({ iPAddress })),
        ]),
      ),
      extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(Buffer.from(subjectKeyId, 'hex'))),
    ]),
  });
  // Build the TBS's asn1js tree once: its encoding is signed, then the same tree is encoded again
  // inside the Certificate (schema-to-tree conversion is the expensive half).
  const tbsTree = AsnSerializer.toASN(tbs);
  const signature = template.signer.sign(new Uint8Array(tbsTree.toBER(false)));
  const der = Buffer.from(
    new asn1js.Sequence({
      value: [tbsTree, template.signatureAlgorithmTree, new asn1js.BitString({ valueHex: toArrayBuffer(signature) })],
    }).toBER(false),
  );
  return { serialNumber, certificateDer: der, certificatePem: derToPem(der, 'CERTIFICATE'), subjectKeyId };
}

export { derToPem } from './key-material.js';
