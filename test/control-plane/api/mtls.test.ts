import { request as httpsRequest } from 'node:https';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, updateApiTls } from '../../../control-plane/src/api/app.js';
import { issueApiToken } from '../../../control-plane/src/api/api-token.js';
import { createMemoryCaStore } from '../../../control-plane/src/ca/ca-store.js';
import { createMeshCa, type MeshCa } from '../../../control-plane/src/ca/mesh-ca.js';
import { workloadIdentity } from '../../../control-plane/src/ca/workload-identity.js';
import { createStore, type Store } from '../../../control-plane/src/store/store.js';

interface ClientCert {
  cert: string;
  key: string;
}

function get(port: number, path: string, opts: { ca: string; client?: ClientCert; token?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'GET',
        ca: opts.ca,
        ...(opts.client ?? {}),
        headers: opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` },
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += String(d)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('API over mTLS with the mesh CA', () => {
  let ca: MeshCa;
  let otherCa: MeshCa;
  let store: Store;
  let app: FastifyInstance;
  let port: number;
  let bundle: string;
  let token: string;
  let operator: ClientCert;

  beforeAll(async () => {
    ca = await createMeshCa({ trustDomain: 'mesh.test', store: createMemoryCaStore() });
    otherCa = await createMeshCa({ trustDomain: 'mesh.test', store: createMemoryCaStore() });
    const serving = await ca.servingCertificate({ ipAddresses: ['127.0.0.1'] });
    const m = serving.current();
    bundle = m.clientCa;
    store = createStore({ path: ':memory:' });
    token = issueApiToken(store, { name: 'ops', role: 'admin', actor: 'test' }).token;
    app = await createApp({ store, ca, dlpConfigSchema: false, tls: { key: m.privateKey, cert: m.certificateChain, clientCa: m.clientCa } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
    const svid = await ca.currentCertificate(workloadIdentity('mesh.test', 'operators', 'alice'));
    operator = { cert: svid.certificateChainPem, key: svid.privateKeyPem };
    serving.close();
  });
  afterAll(async () => {
    await app.close();
    store.close();
    ca.close();
    otherCa.close();
  });

  it('accepts a client certificate from the mesh CA plus a token, and sees the client identity', async () => {
    const r = await get(port, '/v1/whoami', { ca: bundle, client: operator, token });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ tokenId: token.split('_')[1], name: 'ops', role: 'admin', clientIdentity: 'spiffe://mesh.test/ns/operators/sa/alice' });
  });

  it('still requires a token with a valid client certificate', async () => {
    expect((await get(port, '/v1/workloads', { ca: bundle, client: operator })).status).toBe(401);
    // health stays reachable for probes that present a certificate
    expect((await get(port, '/healthz', { ca: bundle, client: operator })).status).toBe(200);
  });

  it('refuses the handshake without a client certificate or with one from another CA', async () => {
    await expect(get(port, '/healthz', { ca: bundle, token })).rejects.toThrow();
    const foreign = await otherCa.currentCertificate(workloadIdentity('mesh.test', 'operators', 'mallory'));
    await expect(get(port, '/healthz', { ca: bundle, client: { cert: foreign.certificateChainPem, key: foreign.privateKeyPem }, token })).rejects.toThrow();
  });

  it('swaps the serving material without a restart', async () => {
    const serving = await ca.servingCertificate({ ipAddresses: ['127.0.0.1'], serviceAccount: 'api-2' });
    const m = serving.current();
    updateApiTls(app, { key: m.privateKey, cert: m.certificateChain, clientCa: m.clientCa });
    expect((await get(port, '/v1/whoami', { ca: bundle, client: operator, token })).status).toBe(200);
    serving.close();
  });
});
