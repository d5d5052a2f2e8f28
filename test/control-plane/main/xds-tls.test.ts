/**
 * `xds.tls: tls`: the ADS port serves a certificate from the mesh CA; a workload joins with a join
 * token over TLS, then authenticates later streams with the certificate SDS gave it (mTLS).
 */
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
      parseSettings({ env: { MESHWARD_DATA_DIR: dir, MESHWARD_XDS_PORT: '0', MESHWARD_API_PORT: '0', MESHWARD_XDS_TLS: 'tls', MESHWARD_DEBOUNCE_QUIET: '5ms', MESHWARD_DEBOUNCE_MAX_DELAY: '20ms' } }),
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
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${cp.addresses!.api}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    expect((await call('POST', '/v1/workloads', { name: 'edge', namespace: 'ai', serviceAccount: 'edge', role: 'gateway' })).status).toBe(201);
    const join = await call('POST', '/v1/workloads/ai/edge/join-tokens', {});
    const ca = cp.ca.bundle().rootsPem;
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
