/**
 * The composition root end to end, in-process: real SQLite store and CA in a temporary data
 * directory, the REST API over real HTTP with the bootstrap admin token, and an Envoy-like raw ADS
 * client authenticating with a join token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseSettings, type Settings } from '../../../control-plane/src/config/index.js';
import { ControlPlaneError, createControlPlane, type ControlPlane } from '../../../control-plane/src/control-plane.js';
import type { Listener } from '../../../control-plane/src/gen/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '../../../control-plane/src/gen/envoy/config/route/v3/route_pb.js';
import type { Secret } from '../../../control-plane/src/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { gatewayListenerName } from '../../../control-plane/src/translate/names.js';
import { TypeUrl } from '../../../control-plane/src/xds/type-urls.js';
import { SotwAdsClient } from '../../xds-clients/sotw-ads-client.js';

const silent = pino({ level: 'silent' });

function settingsFor(dataDir: string, env: Record<string, string> = {}): Settings {
  return parseSettings({
    env: {
      MESHWARD_DATA_DIR: dataDir,
      MESHWARD_XDS_PORT: '0',
      MESHWARD_API_PORT: '0',
      MESHWARD_DEBOUNCE_QUIET: '10ms',
      MESHWARD_DEBOUNCE_MAX_DELAY: '50ms',
      MESHWARD_LOG_LEVEL: 'silent',
      ...env,
    },
  });
}

interface Api {
  (method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
}

function apiOf(cp: ControlPlane, token: string): Api {
  return async (method, path, body, headers = {}) => {
    const res = await fetch(`${cp.addresses!.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers };
  };
}

const chat = (w1: number, w2: number) => ({
  name: 'chat',
  modelNames: ['chat-model'],
  versions: [
    { name: 'v1', weight: w1, endpoints: [{ address: '10.0.0.1', port: 8000 }] },
    { name: 'v2', weight: w2, endpoints: [{ address: '10.0.0.2', port: 8000 }] },
  ],
});

function weightsOf(rc: RouteConfiguration): number[] {
  for (const vh of rc.virtualHosts) {
    for (const r of vh.routes) {
      if (r.action.case === 'route' && r.action.value.clusterSpecifier.case === 'weightedClusters') {
        return r.action.value.clusterSpecifier.value.clusters.map((c) => c.weight ?? 0);
      }
    }
  }
  return [];
}

async function connectEnvoy(cp: ControlPlane, joinToken: string, id = 'edge-1'): Promise<SotwAdsClient> {
  return SotwAdsClient.connect({
    address: cp.addresses!.xds,
    node: { id, metadata: { role: 'gateway', 'meshward.workload': 'ai/edge' } },
    metadata: { authorization: `Bearer ${joinToken}` },
  });
}

async function published(cp: ControlPlane, revision: number): Promise<void> {
  for (let i = 0; i < 300 && cp.controller.status().publishedRevision !== revision; i++) await new Promise((r) => setTimeout(r, 10));
  expect(cp.controller.status().publishedRevision).toBe(revision);
}

describe('createControlPlane', () => {
  let dir: string;
  let cp: ControlPlane;
  let api: Api;
  let joinToken: string;
  const seen: { lds?: string; cds?: string; rds?: string; revision?: number } = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mw-cp-'));
    cp = createControlPlane(settingsFor(join(dir, 'data')), { logger: silent });
    await cp.start();
    api = apiOf(cp, readFileSync(cp.adminToken!.path, 'utf8').trim());
  });

  afterAll(async () => {
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts on ephemeral 127.0.0.1 ports with the store, CA and a 0600 admin token in the data directory', async () => {
    expect(cp.addresses!.xds).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(cp.addresses!.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(cp.adminToken).toMatchObject({ created: true, path: join(dir, 'data', 'admin-token') });
    expect(statSync(join(dir, 'data', 'admin-token')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'data')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'data', 'meshward.db')).isFile()).toBe(true);
    expect((await fetch(`${cp.addresses!.api}/readyz`)).status).toBe(200);
    // no endpoint but health answers without a token
    expect((await fetch(`${cp.addresses!.api}/v1/workloads`)).status).toBe(401);
  });

  it('serves a model created through the REST API to an Envoy that joins with a token, at the store revision', async () => {
    const w = await api('POST', '/v1/workloads', { name: 'edge', namespace: 'ai', serviceAccount: 'edge', role: 'gateway' });
    expect(w.status).toBe(201);
    // let the workload's commit publish on its own (a burst would be debounced into one version)
    await published(cp, Number(w.headers.get('meshward-config-version')));
    const m = await api('POST', '/v1/models', chat(90, 10));
    expect(m.status).toBe(201);
    const revision = Number(m.headers.get('meshward-config-version'));
    expect(revision).toBe(cp.store.revision);
    // the model's commit is published after the debounce window; an Envoy that joins earlier
    // would (correctly) first receive the previous snapshot
    await published(cp, revision);
    const t = await api('POST', '/v1/workloads/ai/edge/join-tokens', {});
    expect(t.status).toBe(201);
    joinToken = t.body.token;

    const envoy = await connectEnvoy(cp, joinToken);
    try {
      envoy.subscribe(TypeUrl.Listener, []);
      envoy.subscribe(TypeUrl.Cluster, []);
      envoy.subscribe(TypeUrl.Secret, ['default', 'ROOTCA']);
      const lds = await envoy.responses.next((r) => r.typeUrl === TypeUrl.Listener, 5000, 'LDS');
      const cds = await envoy.responses.next((r) => r.typeUrl === TypeUrl.Cluster, 5000, 'CDS');
      expect(lds.names).toEqual([gatewayListenerName(8443)]);
      expect(cds.names).toHaveLength(2);
      // version_info is the store revision at which each type's content last changed: the
      // listener at the workload's commit, the clusters at the model's
      expect(lds.versionInfo).toBe(w.headers.get('meshward-config-version'));
      expect(cds.versionInfo).toBe(String(revision));

      const listener = lds.resources.get(gatewayListenerName(8443)) as Listener;
      expect(listener.name).toBe(gatewayListenerName(8443));
      envoy.subscribe(TypeUrl.RouteConfiguration, [gatewayListenerName(8443)]);
      const rds = await envoy.responses.next((r) => r.typeUrl === TypeUrl.RouteConfiguration, 5000, 'RDS');
      expect(rds.versionInfo).toBe(String(revision));
      expect(weightsOf(rds.resources.get(gatewayListenerName(8443)) as RouteConfiguration)).toEqual([90, 10]);

      // SDS: the workload's own certificate, from the CA in the data directory
      const sds = await envoy.responses.next((r) => r.typeUrl === TypeUrl.Secret, 5000, 'SDS');
      expect(sds.names).toEqual(['ROOTCA', 'default']);
      const cert = sds.resources.get('default') as Secret;
      expect(cert.type.case).toBe('tlsCertificate');

      // change a weight: If-Match with the ETag, and the new version reaches the Envoy
      const current = await api('GET', '/v1/models/chat');
      const put = await api('PUT', '/v1/models/chat', chat(50, 50), { 'if-match': current.headers.get('etag')! });
      expect(put.status).toBe(200);
      const next = Number(put.headers.get('meshward-config-version'));
      expect(next).toBe(revision + 1);
      const rds2 = await envoy.responses.next((r) => r.typeUrl === TypeUrl.RouteConfiguration, 5000, 'RDS after the weight change');
      expect(rds2.versionInfo).toBe(String(next));
      expect(weightsOf(rds2.resources.get(gatewayListenerName(8443)) as RouteConfiguration)).toEqual([50, 50]);
      // listeners and clusters did not change: nothing is pushed for them
      await envoy.responses.none((r) => r.typeUrl === TypeUrl.Listener || r.typeUrl === TypeUrl.Cluster, 300);

      // the fleet shows the Envoy, its identity and what it ACKed
      const fleet = await api('GET', '/v1/fleet');
      const node = fleet.body.items.find((n: { nodeId: string }) => n.nodeId === 'edge-1');
      expect(node).toMatchObject({ group: 'role=gateway;workload=ai/edge', identity: { id: 'spiffe://meshward.local/ns/ai/sa/edge', method: 'join-token' } });
      expect(node.types.RDS.ackedVersion).toBe(String(next));
      // the path to the fleet is measured
      const metrics = await fetch(`${cp.addresses!.api}/metrics`, { headers: { authorization: `Bearer ${readFileSync(cp.adminToken!.path, 'utf8').trim()}` } }).then((r) => r.text());
      expect(metrics).toMatch(/^meshward_xds_connected_streams 1$/m);
      // the h2 transport's own counts: this Envoy's HTTP/2 connection, no protocol errors
      expect(metrics).toMatch(/^meshward_xds_connections 1$/m);
      expect(metrics).toMatch(/^meshward_xds_protocol_errors_total 0$/m);
      expect(Number(/^meshward_xds_pushes_total\{result="published"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
      expect(Number(/^meshward_xds_change_to_publish_seconds_count (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
      expect(metrics).toMatch(/^meshward_xds_groups_failing 0$/m);
      // every metric family appears once (the API's and the controller's registries do not overlap)
      const families = [...metrics.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
      expect(new Set(families).size).toBe(families.length);
      expect(metrics).toMatch(new RegExp(`^meshward_xds_published_revision ${next}$`, 'm'));
      expect(metrics).toMatch(/^meshward_ca_certificates_issued_total\{kind="initial"\} 1$/m);
      Object.assign(seen, { lds: lds.versionInfo, cds: cds.versionInfo, rds: rds2.versionInfo, revision: next });
    } finally {
      envoy.close();
    }
  });

  it('runs the real compiled filter for a DLP dry run', async () => {
    const chatBody = JSON.stringify({ model: 'chat-model', messages: [{ role: 'user', content: 'card 4111 1111 1111 1111' }] });
    const r = await api('POST', '/v1/dlp-policies/dry-run', { config: { detectors: { credit_card: { action: 'block' } } }, payload: chatBody });
    expect(r.status).toBe(200);
    expect(r.body.verdict).toBe('block');
    expect(r.body.findings.map((f: { detector: string }) => f.detector)).toContain('credit_card');
  });

  it("refuses a stream whose token belongs to another workload's identity from asking for this workload's config", async () => {
    const w = await api('POST', '/v1/workloads', { name: 'other', namespace: 'ai', serviceAccount: 'other', role: 'gateway' });
    expect(w.status).toBe(201);
    const t = await api('POST', '/v1/workloads/ai/other/join-tokens', {});
    const intruder = await connectEnvoy(cp, t.body.token, 'intruder-1');
    intruder.subscribe(TypeUrl.Listener, []);
    expect(await intruder.status).toMatchObject({ code: 7, details: expect.stringMatching(/workload "ai\/edge" .* authenticated as spiffe:\/\/meshward.local\/ns\/ai\/sa\/other/) });
    intruder.close();
    await api('DELETE', '/v1/workloads/ai/other', undefined, { 'if-match': w.headers.get('etag')! });
  });

  it('restarts on the same data directory serving the same versions (no bump), with the join token still valid', async () => {
    expect(seen.rds).toBeDefined();
    const before = cp.store.revision;
    // an open stream is ended by the shutdown (Envoy then reconnects to the next instance)
    const open = await connectEnvoy(cp, joinToken, 'edge-open');
    open.subscribe(TypeUrl.Listener, []);
    await open.responses.next((r) => r.typeUrl === TypeUrl.Listener, 5000, 'LDS before the shutdown');
    await cp.stop();
    const ended = await Promise.race([open.status, new Promise((r) => setTimeout(() => r('still open'), 3000))]);
    expect(ended).toMatchObject({ code: expect.any(Number) });
    open.close();
    cp = createControlPlane(settingsFor(join(dir, 'data')), { logger: silent });
    await cp.start();
    expect(cp.adminToken?.created).toBe(false);
    expect(cp.store.revision).toBe(before);
    const envoy = await connectEnvoy(cp, joinToken, 'edge-2');
    try {
      envoy.subscribe(TypeUrl.Listener, []);
      envoy.subscribe(TypeUrl.Cluster, []);
      envoy.subscribe(TypeUrl.RouteConfiguration, [gatewayListenerName(8443)]);
      const lds = await envoy.responses.next((r) => r.typeUrl === TypeUrl.Listener, 5000, 'LDS');
      const cds = await envoy.responses.next((r) => r.typeUrl === TypeUrl.Cluster, 5000, 'CDS');
      const rds = await envoy.responses.next((r) => r.typeUrl === TypeUrl.RouteConfiguration, 5000, 'RDS');
      expect({ lds: lds.versionInfo, cds: cds.versionInfo, rds: rds.versionInfo }).toEqual({ lds: seen.lds, cds: seen.cds, rds: seen.rds });
      expect(weightsOf(rds.resources.get(gatewayListenerName(8443)) as RouteConfiguration)).toEqual([50, 50]);
    } finally {
      envoy.close();
    }
    api = apiOf(cp, readFileSync(cp.adminToken!.path, 'utf8').trim());
    expect((await api('GET', '/v1/models/chat')).status).toBe(200);
  });

  it('fails start naming the setting when a port is taken, and leaves nothing running', async () => {
    const other = mkdtempSync(join(tmpdir(), 'mw-cp-'));
    try {
      const clash = createControlPlane(settingsFor(other, { MESHWARD_API_PORT: String(cp.addresses!.apiPort) }), { logger: silent });
      const err = await clash.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ControlPlaneError);
      expect((err as ControlPlaneError).setting).toBe('api.port');
      expect((err as Error).message).toMatch(/^api\.port: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
      // its xDS server was closed again
      await expect(clash.stop()).resolves.toBeUndefined();
      const xdsTaken = createControlPlane(settingsFor(other, { MESHWARD_XDS_PORT: cp.addresses!.xds.split(':')[1]! }), { logger: silent });
      await expect(xdsTaken.start()).rejects.toMatchObject({ setting: 'xds.port' });
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('fails start naming trustDomain when the data directory holds a CA of another trust domain', async () => {
    const other = mkdtempSync(join(tmpdir(), 'mw-cp-'));
    try {
      const first = createControlPlane(settingsFor(other), { logger: silent });
      await first.start();
      await first.stop();
      const second = createControlPlane(settingsFor(other, { MESHWARD_TRUST_DOMAIN: 'cluster.local' }), { logger: silent });
      await expect(second.start()).rejects.toMatchObject({ setting: 'trustDomain' });
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
