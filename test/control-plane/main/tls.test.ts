/**
 * TLS with the mesh CA. `xds.tls: tls`: the ADS port serves a certificate from the mesh CA; a
 * workload joins with a join token over TLS, then authenticates later streams with the certificate
 * SDS gave it (mTLS). `api.tls: mtls`: the REST API is HTTPS and only clients holding a mesh
 * certificate complete the handshake.
 */
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseSettings } from '../../../control-plane/src/config/index.js';
import { createControlPlane, type ControlPlane } from '../../../control-plane/src/control-plane.js';
import type { Secret } from '../../../control-plane/src/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { TypeUrl } from '../../../control-plane/src/xds/type-urls.js';
import { SotwAdsClient } from '../../xds-clients/sotw-ads-client.js';

describe('xDS over TLS with the mesh CA', () => {
  let dir: string;
  let cp: ControlPlane;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mw-tls-'));
    cp = createControlPlane(
      parseSettings({ env: { MESHWARD_DATA_DIR: dir, MESHWARD_XDS_PORT: '0', MESHWARD_API_PORT: '0', MESHWARD_XDS_TLS: 'tls', MESHWARD_API_TLS: 'mtls', MESHWARD_DEBOUNCE_QUIET: '5ms', MESHWARD_DEBOUNCE_MAX_DELAY: '20ms' } }),
      { logger: pino({ level: 'silent' }) },
    );
    await cp.start();
  });
  afterAll(async () => {
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('joins with a token over TLS, then authenticates with the SDS certificate alone', async () => {
    const token = readFileSync(cp.adminToken!.path, 'utf8').trim();
    const ca = readFileSync(cp.addresses!.caBundle, 'utf8');
    expect(ca).toBe(cp.ca.bundle().rootsPem);
    expect(cp.addresses!.api).toMatch(/^https:/);
    // an operator's client certificate, issued by the mesh CA
    const operator = await cp.ca.authority.issue(cp.ca.parseIdentity('spiffe://meshward.local/ns/ops/sa/operator'));
    const client = { cert: operator.certificateChainPem, key: operator.privateKeyPem };
    const call = (method: string, path: string, body?: unknown) => https(cp.addresses!.api, method, path, { ca, ...client }, token, body);
    // without a client certificate the handshake is refused
    await expect(https(cp.addresses!.api, 'GET', '/healthz', { ca }, token)).rejects.toThrow();
    expect((await call('GET', '/healthz')).status).toBe(200);
    expect((await call('POST', '/v1/workloads', { name: 'edge', namespace: 'ai', serviceAccount: 'edge', role: 'gateway' })).status).toBe(201);
    const join = await call('POST', '/v1/workloads/ai/edge/join-tokens', {});
    const node = { id: 'edge-1', metadata: { role: 'gateway', 'meshward.workload': 'ai/edge' } };

    const first = await SotwAdsClient.connect({ address: cp.addresses!.xds, tls: { ca, servername: 'localhost' }, node, metadata: { authorization: `Bearer ${join.body.token}` } });
    let chain: string;
    let key: string;
    try {
      first.subscribe(TypeUrl.Secret, ['default']);
      const sds = await first.responses.next((r) => r.typeUrl === TypeUrl.Secret, 5000, 'SDS');
      const secret = sds.resources.get('default') as Secret;
      if (secret.type.case !== 'tlsCertificate') throw new Error('no tls_certificate');
      const text = (d: typeof secret.type.value.certificateChain) =>
        d?.specifier.case === 'inlineBytes' ? Buffer.from(d.specifier.value).toString('utf8') : '';
      chain = text(secret.type.value.certificateChain);
      key = text(secret.type.value.privateKey);
      expect(chain).toContain('BEGIN CERTIFICATE');
    } finally {
      first.close();
    }

    const second = await SotwAdsClient.connect({ address: cp.addresses!.xds, tls: { ca, servername: 'localhost', cert: chain, key }, node: { ...node, id: 'edge-2' } });
    try {
      second.subscribe(TypeUrl.Listener, []);
      const lds = await second.responses.next((r) => r.typeUrl === TypeUrl.Listener, 5000, 'LDS over mTLS');
      expect(lds.names).toHaveLength(1);
      const stream = cp.xds.fleet.byNode('edge-2')[0]!;
      expect(stream.identity).toMatchObject({ id: 'spiffe://meshward.local/ns/ai/sa/edge', method: 'mtls' });
    } finally {
      second.close();
    }
  });
});

function https(base: string, method: string, path: string, tls: { ca: string; cert?: string; key?: string }, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      { method, ...tls, servername: 'localhost', headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
