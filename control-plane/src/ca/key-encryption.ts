/**
 * Encryption at rest of CA private keys: scrypt (N=2^15, r=8, p=1, 16-byte salt) derives a
 * 256-bit key from a passphrase; AES-256-GCM (12-byte IV, 16-byte tag) encrypts the PKCS#8 PEM
 * with the envelope's format tag as additional authenticated data.
 *
 * Envelope (a small JSON document, so the format is self-describing and versioned):
 * `{"format":"meshward-encrypted-key/v1","kdf":"scrypt","N":32768,"r":8,"p":1,"salt":…,"iv":…,"tag":…,"ciphertext":…}`
 * (binary fields base64).
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { CaError } from './ca-error.js';

const FORMAT = 'meshward-encrypted-key/v1';
const N = 32768;
const R = 8;
const P = 1;

interface Envelope {
  format: string;
  kdf: string;
  N: number;
  r: number;
  p: number;
  salt: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

function deriveKey(passphrase: string, salt: Buffer, n: number, r: number, p: number): Buffer {
  return scryptSync(passphrase, salt, 32, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 });
}

export function encryptPrivateKey(pkcs8Pem: string, passphrase: string): string {
  if (passphrase.length === 0) throw new CaError('INVALID_ARGUMENT', 'passphrase: must not be empty');
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(passphrase, salt, N, R, P), iv);
  cipher.setAAD(Buffer.from(FORMAT));
  const ciphertext = Buffer.concat([cipher.update(pkcs8Pem, 'utf8'), cipher.final()]);
  const env: Envelope = {
    format: FORMAT,
    kdf: 'scrypt',
    N,
    r: R,
    p: P,
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
  return JSON.stringify(env) + '\n';
}

/** True when `text` is an envelope written by {@link encryptPrivateKey}. */
export function isEncryptedPrivateKey(text: string): boolean {
  return text.trimStart().startsWith('{') && text.includes(FORMAT);
}

/**
 * @param source names the file in error messages.
 * @throws CaError CA_KEY_LOCKED when the passphrase is missing or wrong or the file was altered.
 */
export function decryptPrivateKey(text: string, passphrase: string | undefined, source: string): string {
  let env: Envelope;
  try {
    env = JSON.parse(text) as Envelope;
  } catch (err) {
    throw new CaError('CA_KEY_LOCKED', `${source}: not a meshward encrypted key envelope (${(err as Error).message})`, { cause: err });
  }
  if (env.format !== FORMAT || env.kdf !== 'scrypt') throw new CaError('CA_KEY_LOCKED', `${source}: unsupported key envelope format '${String(env.format)}'`);
  if (passphrase === undefined || passphrase === '') {
    throw new CaError('CA_KEY_LOCKED', `${source}: the CA key is encrypted; set MESHWARD_CA_KEY_PASSPHRASE (or pass keyPassphrase) to unlock it`);
  }
  if (![env.N, env.r, env.p].every((v) => Number.isInteger(v) && v > 0) || env.N > 1 << 20) {
    throw new CaError('CA_KEY_LOCKED', `${source}: invalid scrypt parameters`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(passphrase, Buffer.from(env.salt, 'base64'), env.N, env.r, env.p), Buffer.from(env.iv, 'base64'));
    decipher.setAAD(Buffer.from(FORMAT));
    decipher.setAuthTag(Buffer.from(env.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(env.ciphertext, 'base64')), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new CaError('CA_KEY_LOCKED', `${source}: cannot decrypt the CA key: wrong passphrase or the file was modified`, { cause: err });
  }
}
