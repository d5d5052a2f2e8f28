/**
 * `tsx scripts/compose-certs.ts <dir>`: the certificates of the docker compose demo's mTLS
 * listener, written to `<dir>` (a volume shared with Envoy and the client): a demo CA, Envoy's
 * serving certificate (DNS `envoy`, `localhost`), and two client certificates whose URI SAN is a
 * SPIFFE ID — one the RBAC policy allows, one it denies. ECDSA P-256, valid 7 days. Idempotent:
 * existing files are kept unless `--force`.
 *
 * Demo only: production workloads get their certificates from the control plane's CA over SDS.
 */
import 'reflect-metadata';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

export const TRUST_DOMAIN = 'meshward.local';
/** Allowed by envoy/compose/envoy.yaml's RBAC on the mTLS listener. */
export const CLIENT_IDENTITY = `spiffe://${TRUST_DOMAIN}/ns/demo/sa/client`;
/** Presents a valid mesh certificate but is not allowed. */
export const INTRUDER_IDENTITY = `spiffe://${TRUST_DOMAIN}/ns/demo/sa/intruder`;

export const CERT_FILES = {
  ca: 'ca.pem',
  envoyCert: 'envoy.pem',
  envoyKey: 'envoy-key.pem',
  clientCert: 'client.pem',
  clientKey: 'client-key.pem',
  intruderCert: 'intruder.pem',
  intruderKey: 'intruder-key.pem',
} as const;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 3600 * 1000;

function pemKey(der: ArrayBuffer): string {
  return x509.PemConverter.encode(der, 'PRIVATE KEY') + '\n';
}

export async function createComposeCerts(): Promise<Record<keyof typeof CERT_FILES, string>> {
  const now = Date.now();
  const notBefore = new Date(now - 60_000);
  const notAfter = new Date(now + 7 * DAY);
  const caKeys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=meshward compose demo CA',
    notBefore,
    notAfter,
    keys: caKeys as never,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${TRUST_DOMAIN}` }]),
    ],
  });
  const leaf = async (serial: string, cn: string, san: { type: 'dns' | 'url'; value: string }[], usage: string) => {
    const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial,
      subject: `CN=${cn}`,
      issuer: ca.subject,
      notBefore,
      notAfter,
      publicKey: keys.publicKey as never,
      signingKey: caKeys.privateKey as never,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([usage]),
        new x509.SubjectAlternativeNameExtension(san, true),
      ],
    });
    return { cert: cert.toString('pem') + '\n', key: pemKey(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) };
  };
  const serverAuth = '1.3.6.1.5.5.7.3.1';
  const clientAuth = '1.3.6.1.5.5.7.3.2';
  const envoy = await leaf('02', 'envoy', [{ type: 'dns', value: 'envoy' }, { type: 'dns', value: 'localhost' }, { type: 'url', value: `spiffe://${TRUST_DOMAIN}/ns/demo/sa/gateway` }], serverAuth);
  const client = await leaf('03', 'client', [{ type: 'url', value: CLIENT_IDENTITY }], clientAuth);
  const intruder = await leaf('04', 'intruder', [{ type: 'url', value: INTRUDER_IDENTITY }], clientAuth);
  return {
    ca: ca.toString('pem') + '\n',
    envoyCert: envoy.cert,
    envoyKey: envoy.key,
    clientCert: client.cert,
    clientKey: client.key,
    intruderCert: intruder.cert,
    intruderKey: intruder.key,
  };
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const force = args.includes('--force');
  const dirArg = args.find((a) => !a.startsWith('--'));
  if (dirArg === undefined) {
    process.stderr.write('usage: tsx scripts/compose-certs.ts <dir> [--force]\n');
    return 2;
  }
  const dir = resolve(dirArg);
  mkdirSync(dir, { recursive: true });
  if (!force && Object.values(CERT_FILES).every((f) => existsSync(join(dir, f)))) {
    process.stdout.write(`certificates already in ${dir}\n`);
    return 0;
  }
  const pems = await createComposeCerts();
  for (const [k, f] of Object.entries(CERT_FILES)) {
    // Envoy runs as a non-root user in its image: keys must be readable by it (demo volume only).
    writeFileSync(join(dir, f), pems[k as keyof typeof CERT_FILES], { mode: 0o644 });
  }
  process.stdout.write(`wrote ${Object.values(CERT_FILES).join(', ')} to ${dir}\n`);
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main();
