/**
 * Shared helpers of the CA tests: fresh mesh CAs, the PEMs exactly as the SDS secrets deliver them,
 * real TLS handshakes on 127.0.0.1, and openssl.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Secret } from '../../../control-plane/src/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import {
  createManualClock,
  createMemoryCaStore,
  createMeshCa,
  createSecretsProvider,
  type MeshCa,
  type MeshCaOptions,
} from '../../../control-plane/src/ca/index.js';

export const TD = 'mesh.test';
export const idOf = (ns: string, sa: string): string => `spiffe://${TD}/ns/${ns}/sa/${sa}`;

export async function newMeshCa(overrides: Partial<MeshCaOptions> = {}): Promise<MeshCa> {
  return createMeshCa({ trustDomain: TD, store: createMemoryCaStore(), clock: createManualClock(), propagationDelayMs: 60_000, ...overrides });
}

/** The PEMs of a workload, taken out of its SDS Secret messages. */
export interface WorkloadPems {
  readonly chain: string;
  readonly key: string;
  readonly trustedCa: string;
  readonly crl: string;
}

const text = (ds: { specifier: { case: string | undefined; value?: unknown } } | undefined): string => {
  if (!ds) throw new Error('missing data source');
  const v = ds.specifier.value;
  if (ds.specifier.case === 'inlineBytes') return Buffer.from(v as Uint8Array).toString('utf8');
  if (ds.specifier.case === 'inlineString') return v as string;
  throw new Error(`unexpected data source ${String(ds.specifier.case)}`);
};

export function pemsFromSecrets(secrets: readonly Secret[]): WorkloadPems {
  const def = secrets.find((s) => s.name === 'default');
  const root = secrets.find((s) => s.name === 'ROOTCA');
  if (def?.type.case !== 'tlsCertificate') throw new Error('no default tls_certificate secret');
  if (root?.type.case !== 'validationContext') throw new Error('no ROOTCA validation_context secret');
  return {
    chain: text(def.type.value.certificateChain),
    key: text(def.type.value.privateKey),
    trustedCa: text(root.type.value.trustedCa),
    crl: text(root.type.value.crl),
  };
}

export async function workloadPems(meshCa: MeshCa, spiffeId: string): Promise<WorkloadPems> {
  const provider = createSecretsProvider(meshCa);
  return pemsFromSecrets(await provider.secretsFor({ id: spiffeId, method: 'join-token' }));
}

/** URI SANs of a node:tls peer certificate. */
export function uriSans(cert: tls.PeerCertificate | undefined): string[] {
  const san = cert?.subjectaltname ?? '';
  return san
    .split(/,\s*/)
    .filter((s) => s.startsWith('URI:'))
    .map((s) => s.slice(4));
}

/** SPIFFE check for node:tls: the peer must present exactly one URI SAN, equal to `expected`. */
export function spiffeCheck(expected: string) {
  return (_host: string, cert: tls.PeerCertificate): Error | undefined => {
    const uris = uriSans(cert);
    if (uris.length !== 1 || uris[0] !== expected) return new Error(`peer SPIFFE ID ${JSON.stringify(uris)} is not ${expected}`);
    return undefined;
  };
}

export interface HandshakeResult {
  readonly ok: boolean;
  readonly error?: string | undefined;
  /** What the client saw as the server's SPIFFE ID, and vice versa. */
  readonly serverIdSeenByClient?: string | undefined;
  readonly clientIdSeenByServer?: string | undefined;
}

/**
 * One mutual TLS handshake on 127.0.0.1 between `server` and `client`, both validating the peer
 * against their own trusted CA (and CRL, when `useCrl`), plus an explicit SPIFFE ID check on each
 * side (`expectServerId` by the client, `expectClientId` by the server).
 */
export async function mutualHandshake(
  server: WorkloadPems,
  client: WorkloadPems,
  expect: { readonly serverId: string; readonly clientId: string; readonly useCrl?: boolean },
): Promise<HandshakeResult> {
  const useCrl = expect.useCrl ?? false;
  let clientIdSeenByServer: string | undefined;
  let serverSideError: string | undefined;
  const srv = tls.createServer({
    key: server.key,
    cert: server.chain,
    ca: server.trustedCa,
    ...(useCrl ? { crl: splitCrls(server.crl) } : {}),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  });
  srv.on('secureConnection', (socket) => {
    const uris = uriSans(socket.getPeerCertificate());
    clientIdSeenByServer = uris[0];
    if (uris.length !== 1 || uris[0] !== expect.clientId) {
      serverSideError = `server refused client SPIFFE ID ${JSON.stringify(uris)}`;
      socket.destroy();
      return;
    }
    socket.end('ok');
  });
  srv.on('tlsClientError', (err) => {
    serverSideError = err.message;
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  try {
    return await new Promise<HandshakeResult>((resolve) => {
      let serverIdSeenByClient: string | undefined;
      let received = '';
      const sock = tls.connect({
        host: '127.0.0.1',
        port,
        key: client.key,
        cert: client.chain,
        ca: client.trustedCa,
        ...(useCrl ? { crl: splitCrls(client.crl) } : {}),
        checkServerIdentity: (host, cert) => {
          serverIdSeenByClient = uriSans(cert)[0];
          return spiffeCheck(expect.serverId)(host, cert);
        },
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
      });
      const finish = (r: HandshakeResult): void => {
        sock.destroy();
        resolve(r);
      };
      sock.on('data', (d) => {
        received += d.toString();
      });
      sock.on('end', () => {
        if (received === 'ok') finish({ ok: true, serverIdSeenByClient, clientIdSeenByServer });
        else finish({ ok: false, error: serverSideError ?? 'connection ended without data', serverIdSeenByClient, clientIdSeenByServer });
      });
      sock.on('error', (err) => finish({ ok: false, error: serverSideError ? `${err.message} / ${serverSideError}` : err.message, serverIdSeenByClient }));
      sock.on('close', () => finish({ ok: received === 'ok', ...(received === 'ok' ? {} : { error: serverSideError ?? 'closed' }), serverIdSeenByClient, clientIdSeenByServer }));
    });
  } finally {
    await new Promise<void>((r) => srv.close(() => r()));
  }
}

export const OPENSSL = '/usr/bin/openssl';

/** Runs `openssl verify`; returns exit status and output. */
export function opensslVerify(files: { bundle: string; chain?: string; leaf: string; crl?: string }): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mw-ossl-'));
  try {
    const args = ['verify', '-CAfile', join(dir, 'bundle.pem')];
    writeFileSync(join(dir, 'bundle.pem'), files.bundle);
    if (files.chain !== undefined && files.chain.trim() !== '') {
      writeFileSync(join(dir, 'chain.pem'), files.chain);
      args.push('-untrusted', join(dir, 'chain.pem'));
    }
    if (files.crl !== undefined) {
      writeFileSync(join(dir, 'crl.pem'), files.crl);
      args.push('-crl_check', '-CRLfile', join(dir, 'crl.pem'));
    }
    writeFileSync(join(dir, 'leaf.pem'), files.leaf);
    args.push(join(dir, 'leaf.pem'));
    const r = spawnSync(OPENSSL, args, { encoding: 'utf8' });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function openssl(args: string[], cwd: string): string {
  return execFileSync(OPENSSL, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Splits a PEM chain into its certificates. */
export function splitCerts(pem: string): string[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g)].map((m) => m[0]);
}

/**
 * Splits concatenated CRLs. Envoy loads every CRL of its `crl` PEM; node:tls reads only the first
 * of a string, so the handshake helper passes them as an array.
 */
export function splitCrls(pem: string): string[] {
  return [...pem.matchAll(/-----BEGIN X509 CRL-----[\s\S]*?-----END X509 CRL-----\n?/g)].map((m) => m[0]);
}
