import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  readonly caPem: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** A client certificate with the given SPIFFE URI SAN, signed by the CA. */
  client(spiffeId: string): { cert: string; key: string };
  /** A client certificate from a different CA (must not verify). */
  readonly foreign: { cert: string; key: string };
  dispose(): void;
}

/** A throwaway P-256 PKI made with Debian's openssl (test material only). */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'meshward-xds-pki-'));
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  const mkCa = (name: string): void => {
    run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '1', '-subj', `/CN=${name}`);
  };
  let n = 0;
  const leaf = (ca: string, san: string, cn: string): { cert: string; key: string } => {
    const id = `leaf${n++}`;
    writeFileSync(join(dir, `${id}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${id}.key`, '-out', `${id}.csr`, '-subj', `/CN=${cn}`);
    run('x509', '-req', '-in', `${id}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${id}.pem`, '-days', '1', '-extfile', `${id}.ext`);
    return { cert: readFileSync(join(dir, `${id}.pem`), 'utf8'), key: readFileSync(join(dir, `${id}.key`), 'utf8') };
  };
  mkCa('ca');
  mkCa('evil');
  const server = leaf('ca', 'DNS:localhost,IP:127.0.0.1', 'xds');
  const foreign = leaf('evil', 'URI:spiffe://mesh.local/ns/prod/sa/victim', 'foreign');
  return {
    caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    serverCert: server.cert,
    serverKey: server.key,
    client: (spiffeId) => leaf('ca', `URI:${spiffeId}`, 'workload'),
    foreign,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
