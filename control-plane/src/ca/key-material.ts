/**
 * Key pairs and signature algorithms, on Node's native crypto (OpenSSL).
 *
 * Key generation runs in libuv's thread pool (async `generateKeyPair` with output encodings), so it
 * overlaps with certificate encoding on the main thread; signing is a synchronous native call.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, sign as nodeSign, type KeyObject } from 'node:crypto';
import type { webcrypto } from 'node:crypto';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { CaError } from './ca-error.js';

/**
 * Key algorithms meshward issues. Workload keys: `ECDSA_P256` (default) or `RSA_2048`.
 * CA keys: `ECDSA_P256` (default), `ECDSA_P384`, `RSA_2048`, `RSA_3072`, `RSA_4096`.
 */
export type KeyAlgorithm = 'ECDSA_P256' | 'ECDSA_P384' | 'RSA_2048' | 'RSA_3072' | 'RSA_4096';

export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['ECDSA_P256', 'ECDSA_P384', 'RSA_2048', 'RSA_3072', 'RSA_4096'];

/** A freshly generated key pair, already encoded: SPKI (DER) for the certificate, PKCS#8 PEM for the holder. */
export interface GeneratedKeyPair {
  readonly algorithm: KeyAlgorithm;
  readonly spkiDer: Buffer;
  readonly pkcs8Pem: string;
}

export function isRsa(algorithm: KeyAlgorithm): boolean {
  return algorithm.startsWith('RSA_');
}

/** Generates a key pair off the main thread. */
export function generateKeyPairEncoded(algorithm: KeyAlgorithm): Promise<GeneratedKeyPair> {
  return new Promise((resolve, reject) => {
    const encodings = {
      publicKeyEncoding: { type: 'spki', format: 'der' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    } as const;
    const done = (err: Error | null, spkiDer: Buffer, pkcs8Pem: string): void => {
      if (err) reject(new CaError('ISSUANCE_FAILED', `generating a ${algorithm} key failed: ${err.message}`, { cause: err }));
      else resolve({ algorithm, spkiDer, pkcs8Pem });
    };
    switch (algorithm) {
      case 'ECDSA_P256':
        generateKeyPair('ec', { namedCurve: 'prime256v1', ...encodings }, done);
        return;
      case 'ECDSA_P384':
        generateKeyPair('ec', { namedCurve: 'secp384r1', ...encodings }, done);
        return;
      case 'RSA_2048':
      case 'RSA_3072':
      case 'RSA_4096':
        generateKeyPair('rsa', { modulusLength: Number(algorithm.slice(4)), publicExponent: 0x10001, ...encodings }, done);
        return;
    }
  });
}

/**
 * A workload key pair as the SVID issuer needs it. For ECDSA P-256 the pair is generated without
 * OpenSSL's (slow, provider-based) SPKI/PKCS#8 encoders: the private key is exported as SEC1
 * (`EC PRIVATE KEY` PEM, a legacy fast path Envoy and Node both read) and the public key as its
 * uncompressed point (from the JWK form); the SPKI is then built by the certificate encoder.
 * RSA keys come PKCS#8/SPKI-encoded (generation dominates there).
 */
export interface WorkloadKeyPair {
  readonly algorithm: KeyAlgorithm;
  /** PEM: SEC1 for ECDSA, PKCS#8 for RSA. */
  readonly privateKeyPem: string;
  readonly publicKey: { readonly kind: 'ec-point'; readonly point: Buffer } | { readonly kind: 'spki'; readonly der: Buffer };
}

export function generateWorkloadKeyPair(algorithm: KeyAlgorithm): Promise<WorkloadKeyPair> {
  if (algorithm !== 'ECDSA_P256') {
    return generateKeyPairEncoded(algorithm).then((k) => ({ algorithm, privateKeyPem: k.pkcs8Pem, publicKey: { kind: 'spki', der: k.spkiDer } }));
  }
  return new Promise((resolve, reject) => {
    generateKeyPair('ec', { namedCurve: 'prime256v1' }, (err, publicKey, privateKey) => {
      if (err) {
        reject(new CaError('ISSUANCE_FAILED', `generating a ${algorithm} key failed: ${err.message}`, { cause: err }));
        return;
      }
      try {
        const jwk = publicKey.export({ format: 'jwk' });
        const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
        if (point.length !== 65) throw new Error(`unexpected P-256 point length ${point.length}`);
        const sec1 = privateKey.export({ type: 'sec1', format: 'der' });
        resolve({ algorithm, privateKeyPem: derToPem(sec1, 'EC PRIVATE KEY'), publicKey: { kind: 'ec-point', point } });
      } catch (e) {
        reject(new CaError('ISSUANCE_FAILED', `encoding a ${algorithm} key failed: ${(e as Error).message}`, { cause: e }));
      }
    });
  });
}

/** PEM armour (RFC 7468): base64 in 64-column lines. */
export function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  let out = `-----BEGIN ${label}-----\n`;
  for (let i = 0; i < b64.length; i += 64) out += b64.slice(i, i + 64) + '\n';
  return out + `-----END ${label}-----\n`;
}

/** How a given private key signs certificates and CRLs. */
export interface Signer {
  readonly keyAlgorithm: KeyAlgorithm;
  /** The signature AlgorithmIdentifier to put in TBS and outer structures. */
  readonly signatureAlgorithm: AlgorithmIdentifier;
  /** The WebCrypto algorithm (for @peculiar/x509 generators that need a CryptoKey). */
  readonly webCryptoAlgorithm: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  readonly webCryptoSigning: webcrypto.EcdsaParams | webcrypto.Algorithm;
  /** Signs `data` (DER of a TBS structure) and returns the X.509 signature value (DER for ECDSA). */
  sign(data: Uint8Array): Buffer;
  /** The public key, SPKI DER. */
  readonly spkiDer: Buffer;
}

const ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const ECDSA_SHA384 = '1.2.840.10045.4.3.3';
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';

/** Identifies the algorithm of a private key; throws for anything meshward does not support. */
export function keyAlgorithmOf(key: KeyObject): KeyAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return 'ECDSA_P256';
    if (details.namedCurve === 'secp384r1') return 'ECDSA_P384';
    throw new CaError('INVALID_ARGUMENT', `EC curve '${String(details.namedCurve)}' is not supported (use P-256 or P-384)`);
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits === 2048 || bits === 3072 || bits === 4096) return `RSA_${bits}` as KeyAlgorithm;
    throw new CaError('INVALID_ARGUMENT', `RSA key of ${bits} bits is not supported (use 2048, 3072 or 4096)`);
  }
  throw new CaError('INVALID_ARGUMENT', `key type '${String(key.asymmetricKeyType)}' is not supported (use ECDSA P-256/P-384 or RSA)`);
}

/** Builds a {@link Signer} around a private key (PEM or KeyObject). */
export function createSigner(privateKey: KeyObject | string): Signer {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const keyAlgorithm = keyAlgorithmOf(key);
  const spkiDer = createPublicKey(key).export({ type: 'spki', format: 'der' });
  switch (keyAlgorithm) {
    case 'ECDSA_P256':
    case 'ECDSA_P384': {
      const p384 = keyAlgorithm === 'ECDSA_P384';
      const hash = p384 ? 'sha384' : 'sha256';
      return {
        keyAlgorithm,
        signatureAlgorithm: new AlgorithmIdentifier({ algorithm: p384 ? ECDSA_SHA384 : ECDSA_SHA256 }),
        webCryptoAlgorithm: { name: 'ECDSA', namedCurve: p384 ? 'P-384' : 'P-256' },
        webCryptoSigning: { name: 'ECDSA', hash: p384 ? 'SHA-384' : 'SHA-256' },
        sign: (data) => nodeSign(hash, data, { key, dsaEncoding: 'der' }),
        spkiDer,
      };
    }
    default:
      return {
        keyAlgorithm,
        signatureAlgorithm: new AlgorithmIdentifier({ algorithm: SHA256_WITH_RSA, parameters: null }),
        webCryptoAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
        webCryptoSigning: { name: 'RSASSA-PKCS1-v1_5' },
        sign: (data) => nodeSign('sha256', data, key),
        spkiDer,
      };
  }
}
