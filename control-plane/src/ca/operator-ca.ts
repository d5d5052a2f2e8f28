/**
 * Bring your own CA: an intermediate CA the operator issued under their own root, read from PEM
 * files. Every problem is reported naming the file and the reason.
 */
import { readFile } from 'node:fs/promises';
import { createPrivateKey } from 'node:crypto';
import { CaError } from './ca-error.js';
import { loadAuthority, splitPemCertificates, type AuthorityMaterial, type IssuingAuthority } from './authority.js';

export interface OperatorCaFiles {
  /**
   * The intermediate CA certificate meshward signs with (PEM). May be followed, in the same file,
   * by further intermediates up to (not including) the root, closest first.
   */
  readonly certificateFile: string;
  /** Its private key (PEM: PKCS#8, SEC1 or PKCS#1; may be passphrase-protected, see below). */
  readonly privateKeyFile: string;
  /** The operator's root certificate (the trust anchor workloads will trust). */
  readonly rootFile: string;
  /** Passphrase of an encrypted PEM private key file. */
  readonly privateKeyPassphrase?: string;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new CaError('CA_LOAD_FAILED', `${path}: cannot read the ${what} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}

/** Reads and validates the files; returns the material (key re-encoded as PKCS#8 PEM). */
export async function readOperatorCaFiles(files: OperatorCaFiles): Promise<AuthorityMaterial> {
  const certText = await readText(files.certificateFile, 'CA certificate');
  const keyText = await readText(files.privateKeyFile, 'CA private key');
  const rootText = await readText(files.rootFile, 'root certificate');
  const certs = splitPemCertificates(certText);
  if (certs.length === 0) throw new CaError('CA_LOAD_FAILED', `${files.certificateFile}: contains no PEM certificate`);
  const roots = splitPemCertificates(rootText);
  if (roots.length !== 1) {
    throw new CaError('CA_LOAD_FAILED', `${files.rootFile}: must contain exactly one PEM certificate (the root), found ${roots.length}`);
  }
  let privateKeyPem: string;
  try {
    const key = createPrivateKey(
      files.privateKeyPassphrase === undefined ? keyText : { key: keyText, passphrase: files.privateKeyPassphrase },
    );
    privateKeyPem = key.export({ type: 'pkcs8', format: 'pem' }) as string;
  } catch (err) {
    throw new CaError('CA_LOAD_FAILED', `${files.privateKeyFile}: not a readable PEM private key (${(err as Error).message})`, { cause: err });
  }
  return { source: 'operator', certificatePem: certs[0]!, intermediatesPem: certs.slice(1), rootPem: roots[0]!, privateKeyPem };
}

/** Reads, validates and loads an operator CA (see {@link loadAuthority} for the checks). */
export async function loadOperatorCa(files: OperatorCaFiles, nowMs: number): Promise<IssuingAuthority> {
  const material = await readOperatorCaFiles(files);
  return loadAuthority(material, nowMs, {
    certificate: files.certificateFile,
    intermediates: files.certificateFile,
    root: files.rootFile,
    privateKey: files.privateKeyFile,
  });
}
