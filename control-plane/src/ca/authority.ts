/**
 * Issuing authorities: a CA certificate + its private key + the chain up to a trust anchor.
 *
 * Two sources:
 * - `generated`: meshward creates a self-signed root on first start that signs leaves directly
 *   (the chain a workload presents is then its leaf alone; the root is in every trust bundle);
 * - `operator`: an intermediate CA the operator issued under their own root (PEM files), possibly
 *   with further intermediates between it and the root; leaves carry leaf + intermediate(s).
 *
 * An authority's private key stays inside this module's objects and the CaStore: it is never part
 * of {@link AuthorityInfo}, a trust bundle, a secret, a log line or an error message.
 */
import { X509Certificate as NodeX509, createPrivateKey, createPublicKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import type { webcrypto as WebCrypto } from 'node:crypto';
import { CaError } from './ca-error.js';
import { createSigner, generateKeyPairEncoded, type KeyAlgorithm, type Signer } from './key-material.js';
import { createSvidTemplate, keyIdentifierOf, type SvidTemplate } from './svid.js';
import { nodeWebCrypto, x509 } from './x509-runtime.js';

export type AuthoritySource = 'generated' | 'operator';

/** Public, serialisable facts about an authority (safe for the API and logs). */
export interface AuthorityInfo {
  /** Hex subject key identifier of the issuing certificate; the "issuer key id" of its leaves. */
  readonly id: string;
  readonly source: AuthoritySource;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly subject: string;
  readonly serialNumber: string;
  readonly notBefore: string;
  readonly notAfter: string;
  /** SHA-256 fingerprint (hex) of the trust anchor this authority chains to. */
  readonly rootFingerprint: string;
  readonly certificatePem: string;
}

/** The PEM material of an authority, as stored (private key included; never leaves ca/). */
export interface AuthorityMaterial {
  readonly source: AuthoritySource;
  /** The issuing CA certificate. */
  readonly certificatePem: string;
  /** Certificates between the issuing certificate and the root, closest to the issuer first. */
  readonly intermediatesPem: readonly string[];
  /** The trust anchor (equal to certificatePem for a generated, self-signed CA). */
  readonly rootPem: string;
  /** PKCS#8 PEM, unencrypted (encryption at rest is the CaStore's job). */
  readonly privateKeyPem: string;
}

/** A loaded, validated authority able to sign. */
export interface IssuingAuthority {
  readonly info: AuthorityInfo;
  readonly material: AuthorityMaterial;
  readonly signer: Signer;
  readonly template: SvidTemplate;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** PEM of what a leaf appends after itself: the issuing cert and intermediates, or '' when the issuer is the root. */
  readonly chainPem: string;
  readonly rootPem: string;
  /** The issuing certificate parsed (for CRL issuer names and verification). */
  readonly certificate: NodeX509;
  /** WebCrypto form of the signing key, for @peculiar/x509's CRL generator. */
  cryptoKey(): Promise<WebCrypto.CryptoKey>;
}

/** Names the origin of a PEM in error messages (a file path, or a store field). */
export interface MaterialLabels {
  readonly certificate: string;
  readonly intermediates: string;
  readonly root: string;
  readonly privateKey: string;
}

const STORE_LABELS: MaterialLabels = {
  certificate: 'stored CA certificate',
  intermediates: 'stored CA intermediates',
  root: 'stored CA root',
  privateKey: 'stored CA private key',
};

function parseCert(pem: string, label: string): NodeX509 {
  try {
    return new NodeX509(pem);
  } catch (err) {
    throw new CaError('CA_LOAD_FAILED', `${label}: not a valid PEM X.509 certificate (${(err as Error).message})`, { cause: err });
  }
}

function sha256Fingerprint(cert: NodeX509): string {
  return cert.fingerprint256.replaceAll(':', '').toLowerCase();
}

/** Splits a PEM bundle into single certificate PEMs (ignoring text around them). */
export function splitPemCertificates(pem: string): string[] {
  const out: string[] = [];
  const re = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
  for (const m of pem.matchAll(re)) out.push(m[0] + '\n');
  return out;
}

function checkValidAt(cert: NodeX509, label: string, nowMs: number): void {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (nowMs < from) throw new CaError('CA_LOAD_FAILED', `${label}: not valid before ${new Date(from).toISOString()}`);
  if (nowMs > to) throw new CaError('CA_LOAD_FAILED', `${label}: expired on ${new Date(to).toISOString()}`);
}

function checkIsCa(cert: NodeX509, label: string): void {
  const parsed = new x509.X509Certificate(cert.raw);
  const bc = parsed.getExtension(x509.BasicConstraintsExtension);
  if (!bc || !bc.ca) throw new CaError('CA_LOAD_FAILED', `${label}: is not a CA certificate (basicConstraints CA:TRUE missing)`);
  const ku = parsed.getExtension(x509.KeyUsagesExtension);
  if (ku && (ku.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    throw new CaError('CA_LOAD_FAILED', `${label}: its key usage does not allow signing certificates (keyCertSign missing)`);
  }
}

function pathLenOf(cert: NodeX509): number | undefined {
  return new x509.X509Certificate(cert.raw).getExtension(x509.BasicConstraintsExtension)?.pathLength;
}

/**
 * Validates authority material and builds a signing authority.
 * Checks: every PEM parses; the issuing cert and every intermediate are CAs allowed to sign
 * certificates; the private key matches the issuing cert; each cert is signed by the next one up,
 * ending at a self-signed root; path length constraints hold; all are valid at `nowMs`.
 * @throws CaError CA_LOAD_FAILED naming the file/field (from `labels`) and the reason.
 */
export function loadAuthority(material: AuthorityMaterial, nowMs: number, labels: MaterialLabels = STORE_LABELS): IssuingAuthority {
  const cert = parseCert(material.certificatePem, labels.certificate);
  const intermediates = material.intermediatesPem.map((pem, i) => parseCert(pem, `${labels.intermediates} (intermediate ${i + 1})`));
  const root = parseCert(material.rootPem, labels.root);
  let key: KeyObject;
  try {
    key = createPrivateKey(material.privateKeyPem);
  } catch (err) {
    throw new CaError('CA_LOAD_FAILED', `${labels.privateKey}: not a readable PEM private key (${(err as Error).message})`, { cause: err });
  }
  let signer: Signer;
  try {
    signer = createSigner(key);
  } catch (err) {
    throw new CaError('CA_LOAD_FAILED', `${labels.privateKey}: ${(err as Error).message}`, { cause: err });
  }
  if (!cert.checkPrivateKey(key)) {
    throw new CaError('CA_LOAD_FAILED', `${labels.privateKey}: does not match the public key of ${labels.certificate}`);
  }
  checkIsCa(cert, labels.certificate);
  intermediates.forEach((c, i) => checkIsCa(c, `${labels.intermediates} (intermediate ${i + 1})`));
  checkIsCa(root, labels.root);
  const selfSigned = root.checkIssued(root) && root.verify(root.publicKey);
  if (!selfSigned) throw new CaError('CA_LOAD_FAILED', `${labels.root}: is not a self-signed root certificate`);

  const path = [cert, ...intermediates];
  const pathLabels = [labels.certificate, ...intermediates.map((_, i) => `${labels.intermediates} (intermediate ${i + 1})`)];
  const issuerIsRoot = cert.fingerprint256 === root.fingerprint256;
  if (issuerIsRoot && intermediates.length > 0) {
    throw new CaError('CA_LOAD_FAILED', `${labels.intermediates}: must be empty when the issuing certificate is the root itself`);
  }
  if (!issuerIsRoot) {
    for (let i = 0; i < path.length; i++) {
      const child = path[i]!;
      const parent = i + 1 < path.length ? path[i + 1]! : root;
      const parentLabel = i + 1 < path.length ? pathLabels[i + 1]! : labels.root;
      if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
        throw new CaError('CA_LOAD_FAILED', `${pathLabels[i]}: is not signed by ${parentLabel} (chain does not validate)`);
      }
    }
    // A CA's pathLenConstraint bounds the CA certificates below it in a path (the leaf excluded):
    // chainUp[i] has chainUp[0..i-1] below it.
    const chainUp = [...path, root];
    for (let i = 1; i < chainUp.length; i++) {
      const limit = pathLenOf(chainUp[i]!);
      if (limit !== undefined && limit < i) {
        const label = i < pathLabels.length ? pathLabels[i]! : labels.root;
        throw new CaError('CA_LOAD_FAILED', `${label}: its pathLenConstraint ${limit} does not allow ${i} CA certificate(s) below it`);
      }
    }
  }
  [cert, ...intermediates, root].forEach((c, i) => checkValidAt(c, i === 0 ? labels.certificate : i <= intermediates.length ? pathLabels[i]! : labels.root, nowMs));

  const id = keyIdentifierOf(signer.spkiDer);
  const subjectDer = new x509.X509Certificate(cert.raw).subjectName.toArrayBuffer();
  const template = createSvidTemplate(signer, subjectDer, id);
  const chainPem = issuerIsRoot ? '' : [material.certificatePem, ...material.intermediatesPem].map(normalisePem).join('');
  let cryptoKeyPromise: Promise<WebCrypto.CryptoKey> | undefined;
  return {
    info: {
      id,
      source: material.source,
      keyAlgorithm: signer.keyAlgorithm,
      subject: cert.subject.replaceAll('\n', ', '),
      serialNumber: cert.serialNumber.toLowerCase(),
      notBefore: new Date(cert.validFrom).toISOString(),
      notAfter: new Date(cert.validTo).toISOString(),
      rootFingerprint: sha256Fingerprint(root),
      certificatePem: normalisePem(material.certificatePem),
    },
    material,
    signer,
    template,
    notBeforeMs: Date.parse(cert.validFrom),
    notAfterMs: Date.parse(cert.validTo),
    chainPem,
    rootPem: normalisePem(material.rootPem),
    certificate: cert,
    cryptoKey() {
      cryptoKeyPromise ??= webcrypto.subtle.importKey(
        'pkcs8',
        key.export({ type: 'pkcs8', format: 'der' }),
        signer.webCryptoAlgorithm,
        false,
        ['sign'],
      ) as Promise<WebCrypto.CryptoKey>;
      return cryptoKeyPromise;
    },
  };
}

function normalisePem(pem: string): string {
  const t = pem.trim();
  return t + '\n';
}

export interface GenerateAuthorityOptions {
  readonly trustDomain: string;
  /** Defaults to `ECDSA_P256`. */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** Validity of the generated root. Defaults to 10 years. */
  readonly validityMs?: number;
  readonly nowMs: number;
}

export const DEFAULT_CA_VALIDITY_MS = 10 * 365 * 24 * 3600 * 1000;

/**
 * Creates a self-signed root CA for the trust domain: CA:TRUE pathlen 0 (it signs leaves directly),
 * keyCertSign + cRLSign, SKI = AKI, and the trust domain's SPIFFE ID (`spiffe://<td>`) as URI SAN.
 */
export async function generateAuthority(options: GenerateAuthorityOptions): Promise<IssuingAuthority> {
  const keyAlgorithm = options.keyAlgorithm ?? 'ECDSA_P256';
  const keys = await generateKeyPairEncoded(keyAlgorithm);
  const signer = createSigner(keys.pkcs8Pem);
  const privateKey = await nodeWebCrypto.subtle.importKey('pkcs8', createPrivateKey(keys.pkcs8Pem).export({ type: 'pkcs8', format: 'der' }), signer.webCryptoAlgorithm, false, ['sign']);
  const publicKey = await nodeWebCrypto.subtle.importKey('spki', createPublicKey(keys.pkcs8Pem).export({ type: 'spki', format: 'der' }), signer.webCryptoAlgorithm, true, ['verify']);
  const keyId = keyIdentifierOf(keys.spkiDer);
  const notBefore = new Date(options.nowMs - 5 * 60_000);
  const notAfter = new Date(options.nowMs + (options.validityMs ?? DEFAULT_CA_VALIDITY_MS));
  const ou = options.trustDomain.slice(0, 64);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16).toString('hex').replace(/^./, '4'),
    name: [{ O: ['meshward'] }, { OU: [ou] }, { CN: [`meshward CA ${keyId.slice(0, 8)}`] }],
    notBefore,
    notAfter,
    keys: { privateKey, publicKey },
    signingAlgorithm: signer.webCryptoSigning,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.SubjectKeyIdentifierExtension(keyId),
      new x509.AuthorityKeyIdentifierExtension(keyId),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${options.trustDomain}` }]),
    ],
  });
  const pem = cert.toString('pem');
  return loadAuthority({ source: 'generated', certificatePem: pem, intermediatesPem: [], rootPem: pem, privateKeyPem: keys.pkcs8Pem }, options.nowMs);
}
