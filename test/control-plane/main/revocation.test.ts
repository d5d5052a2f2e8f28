/**
 * Revoking a workload's certificate through the REST API ends the open ADS streams of that
 * identity (SotW and delta) with PERMISSION_DENIED, so no Envoy keeps serving with secrets the CA
 * has withdrawn; other identities' streams stay up, and the revoked identity cannot come back
 * with its old join token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseSettings } from '../../../control-plane/src/config/index.js';
import { createControlPlane, type ControlPlane } from '../../../control-plane/src/control-plane.js';
import { TypeUrl } from '../../../control-plane/src/xds/type-urls.js';
import { DeltaAdsClient } from '../../xds-clients/delta-ads-client.js';
import { SotwAdsClient } from '../../xds-clients/sotw-ads-client.js';

const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;

describe('certificate revocation ends the identity\'s open xDS streams', () => {
  let dir: string;
  let cp: ControlPlane;
  let token: string;
  const clients: Array<{ close(): void }> = [];

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${cp.addresses!.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
  };
  const joinToken = async (name: string): Promise<string> => (await api('POST', `/v1/workloads/ai/${name}/join-tokens`, {})).body.token;
  const sotwOf = async (name: string, id: string, jt: string): Promise<SotwAdsClient> => {
    const c = await SotwAdsClient.connect({
      address: cp.addresses!.xds,
      node: { id, metadata: { role: 'gateway', 'meshward.workload': `ai/${name}` } },
      metadata: { authorization: `Bearer ${jt}` },
    });
    clients.push(c);
    return c;
  };
  const stillOpen = (status: Promise<unknown>, ms = 300) => Promise.race([status.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), ms))]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mw-revoke-'));
    const settings = parseSettings({
      env: { MESHWARD_DATA_DIR: join(dir, 'data'), MESHWARD_XDS_PORT: '0', MESHWARD_API_PORT: '0', MESHWARD_DEBOUNCE_QUIET: '10ms', MESHWARD_DEBOUNCE_MAX_DELAY: '50ms', MESHWARD_LOG_LEVEL: 'silent' },
    });
    cp = createControlPlane(settings, { logger: pino({ level: 'silent' }), dlpRuntime: async () => Promise.reject(new Error('not needed here')) });
    await cp.start();
    token = readFileSync(cp.adminToken!.path, 'utf8').trim();
    for (const name of ['edge', 'other']) {
      expect((await api('POST', '/v1/workloads', { name, namespace: 'ai', serviceAccount: name, role: 'gateway' })).status).toBe(201);
    }
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends the revoked identity\'s SotW and delta streams with PERMISSION_DENIED and leaves other identities connected', async () => {
    const edgeToken = await joinToken('edge');
    const edge = await sotwOf('edge', 'edge-1', edgeToken);
    edge.subscribe(TypeUrl.Listener, []);
    edge.subscribe(TypeUrl.Secret, ['default', 'ROOTCA']);
    await edge.responses.next((r) => r.typeUrl === TypeUrl.Secret, 5000, 'SDS of edge');
    const edgeDelta = await DeltaAdsClient.connect({
      address: cp.addresses!.xds,
      node: { id: 'edge-2', metadata: { role: 'gateway', 'meshward.workload': 'ai/edge' } },
      metadata: { authorization: `Bearer ${edgeToken}` },
    });
    clients.push(edgeDelta);
    edgeDelta.subscribe(TypeUrl.Secret, ['default', 'ROOTCA']);
    await edgeDelta.responses.next((r) => r.typeUrl === TypeUrl.Secret, 5000, 'delta SDS of edge');
    const other = await sotwOf('other', 'other-1', await joinToken('other'));
    other.subscribe(TypeUrl.Listener, []);
    other.subscribe(TypeUrl.Secret, ['default', 'ROOTCA']);
    await other.responses.next((r) => r.typeUrl === TypeUrl.Secret, 5000, 'SDS of other');
    expect((await api('GET', '/v1/fleet')).body.connected).toBe(3);

    const certs = await api('GET', `/v1/certificates?spiffeId=${encodeURIComponent('spiffe://meshward.local/ns/ai/sa/edge')}`);
    const serial = certs.body.items[0].serialNumber as string;
    const revoked = await api('POST', `/v1/certificates/${serial}/revoke`, { reason: 'keyCompromise' });
    expect(revoked.status).toBe(200);

    const timeout = (what: string) => new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} still open 3 s after the revocation`)), 3000));
    for (const [what, status] of [['SotW', edge.status], ['delta', edgeDelta.status]] as const) {
      const ended = (await Promise.race([status, timeout(what)])) as { code: number; details: string };
      expect(ended, what).toMatchObject({ code: PERMISSION_DENIED, details: expect.stringMatching(/spiffe:\/\/meshward\.local\/ns\/ai\/sa\/edge.*revoked/) });
    }
    // the other workload keeps its stream
    expect(await stillOpen(other.status)).toBe(true);
    const fleet = (await api('GET', '/v1/fleet')).body;
    expect(fleet.items.map((n: { nodeId: string }) => n.nodeId)).toEqual(['other-1']);

    // the revoked identity cannot reconnect with its old join token
    const back = await sotwOf('edge', 'edge-3', edgeToken);
    back.subscribe(TypeUrl.Listener, []);
    const refused = (await Promise.race([back.status, timeout('the reconnect')])) as { code: number };
    expect([PERMISSION_DENIED, UNAUTHENTICATED]).toContain(refused.code);
  });

  it('ends nothing when a superseded (no longer current) certificate is revoked', async () => {
    const jt = await joinToken('other');
    const c = await sotwOf('other', 'other-2', jt);
    c.subscribe(TypeUrl.Secret, ['default', 'ROOTCA']);
    await c.responses.next((r) => r.typeUrl === TypeUrl.Secret, 5000, 'SDS');
    // a forced renewal supersedes the current certificate
    const spiffeId = 'spiffe://meshward.local/ns/ai/sa/other';
    await cp.ca.renew(spiffeId);
    const list = await api('GET', `/v1/certificates?spiffeId=${encodeURIComponent(spiffeId)}&status=superseded`);
    expect(list.body.items.length).toBeGreaterThan(0);
    expect((await api('POST', `/v1/certificates/${list.body.items[0].serialNumber}/revoke`, {})).status).toBe(200);
    expect(cp.ca.isBlocked(spiffeId)).toBe(false);
    expect(await stillOpen(c.status, 500)).toBe(true);
  });
});
