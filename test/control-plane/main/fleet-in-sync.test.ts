/**
 * The fleet's `inSync` and GET /v1/controller through the whole control plane: real store,
 * controller and ADS server, with Envoy-like SotW and delta clients that ACK and NACK.
 * Versions are per type (a type keeps the revision at which its content last changed, and a
 * commit that does not touch a group leaves its types alone), so `inSync` must be judged against
 * the group's current snapshot, never against the store revision.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseSettings } from '../../../control-plane/src/config/index.js';
import { createControlPlane, type ControlPlane } from '../../../control-plane/src/control-plane.js';
import { gatewayListenerName } from '../../../control-plane/src/translate/names.js';
import { TypeUrl } from '../../../control-plane/src/xds/type-urls.js';
import { DeltaAdsClient } from '../../xds-clients/delta-ads-client.js';
import { SotwAdsClient } from '../../xds-clients/sotw-ads-client.js';

const GROUP = 'role=gateway;workload=ai/edge';
const LISTENER = gatewayListenerName(8443);

const model = (name: string, w1: number, w2: number) => ({
  name,
  modelNames: [`${name}-model`],
  versions: [
    { name: 'v1', weight: w1, endpoints: [{ address: '10.0.0.1', port: 8000 }] },
    { name: 'v2', weight: w2, endpoints: [{ address: '10.0.0.2', port: 8000 }] },
  ],
});

interface FleetNode {
  nodeId: string;
  group: string;
  inSync: boolean;
  snapshotVersion?: string;
  ackedConfigVersion?: number;
  types: Record<string, { ackedVersion?: string; sentVersion?: string; snapshotVersion?: string; inSync?: boolean; lastNack?: { message: string } }>;
}

describe('fleet inSync and /v1/controller against the group snapshot (real ADS clients)', () => {
  let dir: string;
  let cp: ControlPlane;
  let token: string;
  let sotw: SotwAdsClient;
  let delta: DeltaAdsClient;
  /** The SotW client NACKs RDS while this is set (Envoy refusing a route configuration). */
  let refuseRoutes: string | undefined;

  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${cp.addresses!.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers };
  };
  const fleet = async (): Promise<{ configVersion: number; items: FleetNode[] }> => (await api('GET', '/v1/fleet')).body;
  const node = async (id: string): Promise<FleetNode> => (await fleet()).items.find((n) => n.nodeId === id)!;
  const until = async (what: string, pred: () => Promise<boolean>): Promise<void> => {
    for (let i = 0; i < 250; i++) {
      if (await pred()) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await fleet())}`);
  };
  const published = async (revision: number): Promise<void> => {
    for (let i = 0; i < 300 && cp.controller.status().publishedRevision !== revision; i++) await new Promise((r) => setTimeout(r, 10));
    expect(cp.controller.status().publishedRevision).toBe(revision);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mw-insync-'));
    const settings = parseSettings({
      env: {
        MESHWARD_DATA_DIR: join(dir, 'data'),
        MESHWARD_XDS_PORT: '0',
        MESHWARD_API_PORT: '0',
        MESHWARD_DEBOUNCE_QUIET: '10ms',
        MESHWARD_DEBOUNCE_MAX_DELAY: '50ms',
        MESHWARD_LOG_LEVEL: 'silent',
      },
    });
    cp = createControlPlane(settings, { logger: pino({ level: 'silent' }), dlpRuntime: async () => Promise.reject(new Error('not needed here')) });
    await cp.start();
    token = readFileSync(cp.adminToken!.path, 'utf8').trim();
    expect((await api('POST', '/v1/models', model('chat', 90, 10))).status).toBe(201);
    const w = await api('POST', '/v1/workloads', { name: 'edge', namespace: 'ai', serviceAccount: 'edge', role: 'gateway', models: ['chat'] });
    expect(w.status, JSON.stringify(w.body)).toBe(201);
    await published(Number(w.headers.get('meshward-config-version')));
    const joinToken = (await api('POST', '/v1/workloads/ai/edge/join-tokens', {})).body.token as string;
    const metadata = { authorization: `Bearer ${joinToken}` };
    const nodeMeta = { role: 'gateway', 'meshward.workload': 'ai/edge' };
    sotw = await SotwAdsClient.connect({
      address: cp.addresses!.xds,
      node: { id: 'edge-sotw', metadata: nodeMeta },
      metadata,
      validate: (typeUrl) => (typeUrl === TypeUrl.RouteConfiguration ? refuseRoutes : undefined),
    });
    delta = await DeltaAdsClient.connect({ address: cp.addresses!.xds, node: { id: 'edge-delta', metadata: nodeMeta }, metadata });
  });

  afterAll(async () => {
    sotw?.close();
    delta?.close();
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows an Envoy in sync once it ACKed every subscribed type at the group version, and keeps it in sync across commits that do not touch its group', async () => {
    sotw.subscribe(TypeUrl.Listener, []);
    sotw.subscribe(TypeUrl.Cluster, []);
    await sotw.responses.next((r) => r.typeUrl === TypeUrl.Listener, 5000, 'LDS');
    await sotw.responses.next((r) => r.typeUrl === TypeUrl.Cluster, 5000, 'CDS');
    sotw.subscribe(TypeUrl.RouteConfiguration, [LISTENER]);
    await sotw.responses.next((r) => r.typeUrl === TypeUrl.RouteConfiguration, 5000, 'RDS');
    delta.subscribe(TypeUrl.Listener, []);
    delta.subscribe(TypeUrl.Cluster, []);
    await until('both Envoys in sync', async () => (await fleet()).items.filter((n) => n.inSync).length === 2);

    const ctl = (await api('GET', '/v1/controller')).body;
    const group = ctl.groups.find((g: { group: string }) => g.group === GROUP);
    expect(group).toMatchObject({ version: String(ctl.publishedRevision), connectedStreams: 2 });
    const s = await node('edge-sotw');
    expect(s).toMatchObject({ group: GROUP, inSync: true, snapshotVersion: group.version, ackedConfigVersion: ctl.publishedRevision });
    for (const t of ['LDS', 'CDS', 'RDS']) {
      expect(s.types[t], t).toMatchObject({ ackedVersion: group.types[t], snapshotVersion: group.types[t], inSync: true });
    }

    // a model this gateway does not route: a new store revision, but nothing of its group changes
    const other = await api('POST', '/v1/models', model('other', 100, 0));
    expect(other.status).toBe(201);
    const revision = Number(other.headers.get('meshward-config-version'));
    await published(revision);
    const after = (await api('GET', '/v1/controller')).body.groups.find((g: { group: string }) => g.group === GROUP);
    expect(after.types).toEqual(group.types);
    await sotw.responses.none((r) => r.typeUrl === TypeUrl.Listener || r.typeUrl === TypeUrl.Cluster || r.typeUrl === TypeUrl.RouteConfiguration, 200);
    const f = await fleet();
    expect(f.configVersion).toBe(revision);
    for (const n of f.items) {
      // no type was ACKed at the store revision, yet both run their group's current snapshot
      const acked = Object.values(n.types).map((t) => Number(t.ackedVersion));
      expect(Math.max(...acked), n.nodeId).toBeLessThan(revision);
      expect(n, n.nodeId).toMatchObject({ inSync: true, snapshotVersion: String(revision), ackedConfigVersion: revision });
    }
  });

  it('shows an Envoy that NACKed its group\'s new routes out of sync (naming the type), and in sync again once it ACKs a later version', async () => {
    refuseRoutes = 'route: weighted cluster total must be 100';
    const current = await api('GET', '/v1/models/chat');
    const put = await api('PUT', '/v1/models/chat', model('chat', 50, 50), { 'if-match': current.headers.get('etag')! });
    expect(put.status).toBe(200);
    const revision = Number(put.headers.get('meshward-config-version'));
    await until('the RDS NACK', async () => (await node('edge-sotw')).types['RDS']?.lastNack !== undefined);
    const s = await node('edge-sotw');
    expect(s.inSync).toBe(false);
    expect(s.types['RDS']).toMatchObject({ snapshotVersion: String(revision), sentVersion: String(revision), inSync: false, lastNack: { message: refuseRoutes } });
    expect(s.types['LDS']).toMatchObject({ inSync: true });
    // the delta Envoy subscribes no routes: the weight change owes it nothing
    expect(await node('edge-delta')).toMatchObject({ inSync: true, ackedConfigVersion: revision });

    refuseRoutes = undefined;
    const again = await api('GET', '/v1/models/chat');
    const fixed = await api('PUT', '/v1/models/chat', model('chat', 60, 40), { 'if-match': again.headers.get('etag')! });
    const next = Number(fixed.headers.get('meshward-config-version'));
    await until('the RDS ACK', async () => (await node('edge-sotw')).inSync);
    expect((await node('edge-sotw')).types['RDS']).toMatchObject({ ackedVersion: String(next), inSync: true });
  });

  it('GET /v1/controller reports the published revision, when it was published and no failing group (viewer)', async () => {
    const viewer = await api('POST', '/v1/tokens', { name: 'watcher', role: 'viewer' });
    const res = await fetch(`${cp.addresses!.api}/v1/controller`, { headers: { authorization: `Bearer ${viewer.body.token}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { lastPublishedAt: string; lastPublishAt: string };
    expect(body).toMatchObject({ storeRevision: cp.store.revision, publishedRevision: cp.store.revision, inSyncWithStore: true, failingGroups: [] });
    expect(Date.now() - Date.parse(body.lastPublishedAt)).toBeLessThan(60_000);
    expect(body.lastPublishAt).toBe(body.lastPublishedAt);
    expect((await fetch(`${cp.addresses!.api}/v1/controller`)).status).toBe(401);
  });
});
