/**
 * Budget leases wired end to end through createControlPlane: the proxies' `proxy` token is created
 * at first start (0600 file, hashed in the store), the lease endpoint (derived from the bound API)
 * reaches an Envoy-like ADS client in the global DLP policy's ECDS config together with the lease
 * cluster it names, and the lease call works with the proxies' token, which reaches nothing else
 * (whoever reads an Envoy's config must not be able to read the control plane's API).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { StringValueSchema, anyUnpack } from '@bufbuild/protobuf/wkt';
import { parseSettings, type Settings } from '../../../control-plane/src/config/index.js';
import { createControlPlane, type ControlPlane } from '../../../control-plane/src/control-plane.js';
import { PROXY_TOKEN_FILE } from '../../../control-plane/src/api/bootstrap.js';
import type { Cluster } from '../../../control-plane/src/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { TypedExtensionConfig } from '../../../control-plane/src/gen/envoy/config/core/v3/extension_pb.js';
import { WasmSchema } from '../../../control-plane/src/gen/envoy/extensions/filters/http/wasm/v3/wasm_pb.js';
import { BUDGET_LEASE_CLUSTER } from '../../../control-plane/src/translate/budget-config.js';
import { TypeUrl } from '../../../control-plane/src/xds/type-urls.js';
import { SotwAdsClient } from '../../xds-clients/sotw-ads-client.js';

const silent = pino({ level: 'silent' });
const CALLER = 'spiffe://meshward.local/ns/team-a/sa/app';

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

type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

function apiOf(cp: ControlPlane, token: string): Call {
  return async (method, path, body) => {
    const res = await fetch(`${cp.addresses!.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
  };
}

const proxyTokenOf = (dataDir: string): string => readFileSync(join(dataDir, PROXY_TOKEN_FILE), 'utf8').trim();

/** Creates what a budget needs to reach a gateway; returns a join token for the gateway. */
async function seed(api: Call): Promise<string> {
  const created = async (path: string, body: unknown): Promise<void> => {
    const r = await api('POST', path, body);
    expect(r.status, `${path}: ${JSON.stringify(r.body)}`).toBe(201);
  };
  await created('/v1/workloads', { name: 'edge', namespace: 'ai', serviceAccount: 'edge', role: 'gateway' });
  await created('/v1/models', { name: 'chat', modelNames: ['gpt-4o'], versions: [{ name: 'v1', weight: 100, endpoints: [{ address: '10.0.0.1', port: 8000 }] }] });
  await created('/v1/filter-modules', { name: 'default', source: { kind: 'local', path: '/etc/meshward/meshward.wasm' } });
  await created('/v1/dlp-policies', { name: 'global', scope: { kind: 'global' }, config: { mode: 'monitor' } });
  await created('/v1/budgets', { name: 'team-a-hourly', principals: ['spiffe://meshward.local/ns/team-a/*'], tokens: 200000, window: 'hour' });
  const t = await api('POST', '/v1/workloads/ai/edge/join-tokens', {});
  expect(t.status).toBe(201);
  return t.body.token as string;
}

async function ecdsAndCds(cp: ControlPlane, joinToken: string): Promise<{ filterConfig: any; clusters: Map<string, Cluster> }> {
  // Commits are published after the debounce window; join once the last one is, so the first
  // responses are the snapshot under test rather than a previous one.
  for (let i = 0; i < 300 && cp.controller.status().publishedRevision !== cp.store.revision; i++) await new Promise((r) => setTimeout(r, 10));
  expect(cp.controller.status().publishedRevision).toBe(cp.store.revision);
  const envoy = await SotwAdsClient.connect({
    address: cp.addresses!.xds,
    node: { id: 'edge-1', metadata: { role: 'gateway', 'meshward.workload': 'ai/edge' } },
    metadata: { authorization: `Bearer ${joinToken}` },
  });
  try {
    envoy.subscribe(TypeUrl.Cluster, []);
    envoy.subscribe(TypeUrl.TypedExtensionConfig, ['meshward.dlp']);
    const cds = await envoy.responses.next((r) => r.typeUrl === TypeUrl.Cluster, 5000, 'CDS');
    const ecds = await envoy.responses.next((r) => r.typeUrl === TypeUrl.TypedExtensionConfig, 5000, 'ECDS');
    const ext = ecds.resources.get('meshward.dlp') as TypedExtensionConfig;
    const wasm = anyUnpack(ext.typedConfig!, WasmSchema)!;
    const filterConfig = JSON.parse(anyUnpack(wasm.config!.configuration!, StringValueSchema)!.value);
    return { filterConfig, clusters: cds.resources as Map<string, Cluster> };
  } finally {
    envoy.close();
  }
}

describe('budget leases in the running control plane', () => {
  let dir: string;
  let dataDir: string;
  let cp: ControlPlane;
  let admin: Call;
  let joinToken: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mw-leases-'));
    dataDir = join(dir, 'data');
    cp = createControlPlane(settingsFor(dataDir), { logger: silent });
    await cp.start();
    admin = apiOf(cp, readFileSync(cp.adminToken!.path, 'utf8').trim());
    joinToken = await seed(admin);
  });

  afterAll(async () => {
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the proxies token (role proxy) at first start: plaintext only in a 0600 file, a hash in the store', async () => {
    const token = proxyTokenOf(dataDir);
    expect(token).toMatch(/^mw_[0-9a-f]{16}_/);
    expect(statSync(join(dataDir, PROXY_TOKEN_FILE)).mode & 0o777).toBe(0o600);
    const id = token.slice(3, 19);
    const record = cp.store.tokens.get(id)!;
    expect(record).toMatchObject({ name: 'proxies-budget-leases', role: 'proxy', createdBy: 'system:bootstrap' });
    expect(record.secretHash).not.toContain(token.slice(20));
    // the derived endpoint is the bound REST API
    expect(cp.addresses!.budgetLeases).toBe(cp.addresses!.api);
  });

  it('an Envoy gets the lease endpoint in the ECDS filter config, and the cluster it names', async () => {
    const { filterConfig, clusters } = await ecdsAndCds(cp, joinToken);
    expect(filterConfig.budgets.limits.map((l: { name: string }) => l.name)).toEqual(['team-a-hourly']);
    expect(filterConfig.budgets.lease).toEqual({ cluster: BUDGET_LEASE_CLUSTER, authority: '127.0.0.1', authorization: `Bearer ${proxyTokenOf(dataDir)}` });
    const c = clusters.get(BUDGET_LEASE_CLUSTER);
    expect(c, [...clusters.keys()].join(', ')).toBeDefined();
    const ep = c!.loadAssignment!.endpoints[0]!.lbEndpoints[0]!.hostIdentifier;
    expect(ep.case).toBe('endpoint');
    const sa = ep.case === 'endpoint' && ep.value.address?.address.case === 'socketAddress' ? ep.value.address.address.value : undefined;
    expect(sa?.address).toBe('127.0.0.1');
    expect(sa?.portSpecifier).toEqual({ case: 'portValue', value: cp.addresses!.apiPort });
    // api.tls off: the proxies speak plaintext to it
    expect(c!.transportSocket).toBeUndefined();
  });

  it('the token taken from the ECDS config leases budget and reads nothing else of the API', async () => {
    const { filterConfig } = await ecdsAndCds(cp, joinToken);
    const fromEnvoy = (filterConfig.budgets.lease.authorization as string).replace(/^Bearer /, '');
    const leaked = apiOf(cp, fromEnvoy);
    // (another caller than the next test's, whose figures start from an untouched window)
    const lease = await leaked('POST', '/v1/budget-leases', { nodeId: 'edge-1', leases: [{ budget: 'team-a-hourly', key: 'spiffe://meshward.local/ns/team-a/sa/other', spent: 0, want: 1 }] });
    expect(lease.status, JSON.stringify(lease.body)).toBe(200);
    expect(lease.body.leases[0]).toMatchObject({ budget: 'team-a-hourly', granted: 1 });
    for (const path of ['/v1/workloads', '/v1/tokens', '/v1/audit', '/v1/fleet', '/v1/dlp-policies', '/v1/budgets', '/v1/whoami', '/metrics', '/openapi.json']) {
      const r = await leaked('GET', path);
      expect(r.status, `GET ${path}`).toBe(403);
    }
    const w = await leaked('GET', '/v1/workloads');
    expect(w.body).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(w.body.detail).toMatch(/^token "proxies-budget-leases" has role proxy; this operation needs a token with role admin or viewer/);
    // what Envoys hold is exactly the bootstrap proxy token
    expect(fromEnvoy).toBe(proxyTokenOf(dataDir));
  });

  it('the proxies token takes leases, and cannot change configuration', async () => {
    const proxy = apiOf(cp, proxyTokenOf(dataDir));
    const r = await proxy('POST', '/v1/budget-leases', { nodeId: 'edge-1', leases: [{ budget: 'team-a-hourly', key: CALLER, spent: 0, want: 20000 }] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.leases[0]).toMatchObject({ granted: 20000, available: 180000 });
    const w = await proxy('POST', '/v1/budgets', { name: 'sneaky', principals: ['*'], tokens: 1, window: 'hour' });
    expect(w.status).toBe(403);
  });

  it('a restart keeps the token; a revoked token is replaced at the next start and pushed to the proxies', async () => {
    const before = proxyTokenOf(dataDir);
    await cp.stop();
    cp = createControlPlane(settingsFor(dataDir), { logger: silent });
    await cp.start();
    admin = apiOf(cp, readFileSync(cp.adminToken!.path, 'utf8').trim());
    expect(proxyTokenOf(dataDir)).toBe(before);

    expect((await admin('DELETE', `/v1/tokens/${before.slice(3, 19)}`)).status).toBeLessThan(300);
    await cp.stop();
    cp = createControlPlane(settingsFor(dataDir), { logger: silent });
    await cp.start();
    const after = proxyTokenOf(dataDir);
    expect(after).not.toBe(before);
    expect((await apiOf(cp, before)('POST', '/v1/budget-leases', { nodeId: 'edge-1', leases: [] })).status).toBe(401);
    const { filterConfig, clusters } = await ecdsAndCds(cp, joinToken);
    expect(filterConfig.budgets.lease.authorization).toBe(`Bearer ${after}`);
    expect(clusters.get(BUDGET_LEASE_CLUSTER)!.loadAssignment!.endpoints[0]!.lbEndpoints[0]!.hostIdentifier).toMatchObject({
      value: { address: { address: { value: { portSpecifier: { value: cp.addresses!.apiPort } } } } },
    });
  });

  it("budgets.leaseEndpoint 'off': no lease endpoint, no lease cluster", async () => {
    await cp.stop();
    cp = createControlPlane(settingsFor(dataDir, { MESHWARD_BUDGET_LEASE_URL: 'off' }), { logger: silent });
    await cp.start();
    expect(cp.addresses!.budgetLeases).toBeUndefined();
    const { filterConfig, clusters } = await ecdsAndCds(cp, joinToken);
    expect(filterConfig.budgets.limits).toHaveLength(1);
    expect(filterConfig.budgets.lease).toBeUndefined();
    expect(clusters.has(BUDGET_LEASE_CLUSTER)).toBe(false);
  });
});
