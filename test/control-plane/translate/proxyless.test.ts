/**
 * Proxyless gRPC resources, decoded and validated by @grpc/grpc-js-xds's own resource types (the
 * code a real grpc-js client/server runs on every xDS response), so a shape grpc would NACK fails here.
 */
import { createRequire } from 'node:module';
import { describe, expect, it, beforeAll } from 'vitest';
import { clone, toBinary, type DescMessage, type Message } from '@bufbuild/protobuf';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { HttpConnectionManagerSchema } from '../../../control-plane/src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RBACSchema } from '../../../control-plane/src/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { sampleModel } from '../model/fixtures.js';
import { translateAll, grpcServerListenerName, type TranslatedResources } from '../../../control-plane/src/translate/index.js';
import { ListenerSchema } from '../../../control-plane/src/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../../control-plane/src/gen/envoy/config/route/v3/route_pb.js';
import { ClusterSchema } from '../../../control-plane/src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../control-plane/src/gen/envoy/config/endpoint/v3/endpoint_pb.js';

const require = createRequire(import.meta.url);
type Decoder = { decode(ctx: unknown, any: { type_url: string; value: Buffer }): { name: string; value?: unknown; error?: string } };
let types: { listener: Decoder; route: Decoder; cluster: Decoder; endpoint: Decoder };
const ctx = { server: { serverUri: 'localhost:1', channelCreds: [], serverFeatures: [] }, bootstrap: { certificateProviders: {}, node: {}, xdsServers: [], authorities: {} } };

beforeAll(() => {
  process.env['GRPC_XDS_EXPERIMENTAL_RBAC'] = 'true';
  // The package entry point sets up proto loading (google/protobuf includes) for its internals.
  require('@grpc/grpc-js-xds');
  const base = '@grpc/grpc-js-xds/build/src/';
  (require(base + 'http-filter/router-filter') as { setup(): void }).setup();
  (require(base + 'http-filter/rbac-filter') as { setup(): void }).setup();
  types = {
    listener: (require(base + 'xds-resource-type/listener-resource-type') as { ListenerResourceType: { get(): Decoder } }).ListenerResourceType.get(),
    route: (require(base + 'xds-resource-type/route-config-resource-type') as { RouteConfigurationResourceType: { get(): Decoder } }).RouteConfigurationResourceType.get(),
    cluster: (require(base + 'xds-resource-type/cluster-resource-type') as { ClusterResourceType: { get(): Decoder } }).ClusterResourceType.get(),
    endpoint: (require(base + 'xds-resource-type/endpoint-resource-type') as { EndpointResourceType: { get(): Decoder } }).EndpointResourceType.get(),
  };
});

function decode<D extends DescMessage>(d: Decoder, schema: D, msg: Message) {
  return d.decode(ctx, { type_url: `type.googleapis.com/${schema.typeName}`, value: Buffer.from(toBinary(schema, msg as never)) });
}

function expectAccepted(r: TranslatedResources): void {
  for (const l of r.listeners) expect(decode(types.listener, ListenerSchema, l), l.name).not.toHaveProperty('error');
  for (const rc of r.routes) expect(decode(types.route, RouteConfigurationSchema, rc), rc.name).not.toHaveProperty('error');
  for (const c of r.clusters) expect(decode(types.cluster, ClusterSchema, c), c.name).not.toHaveProperty('error');
  for (const e of r.endpoints) expect(decode(types.endpoint, ClusterLoadAssignmentSchema, e), e.clusterName).not.toHaveProperty('error');
}

const now = new Date('2026-11-25T10:00:00Z');

describe('proxyless client resources', () => {
  const r = () => translateAll(sampleModel(), { role: 'proxyless', workload: 'apps/client' }, { now });

  it('are accepted by grpc-js-xds validators', () => {
    expectAccepted(r());
  });

  it('name the ApiListener after the xds:/// target and route through weighted EDS clusters', () => {
    const res = r();
    expect(res.listeners.map((l) => l.name)).toEqual(['grpc-echo']);
    const l = decode(types.listener, ListenerSchema, res.listeners[0]!);
    expect(l.name).toBe('grpc-echo');
    const route = decode(types.route, RouteConfigurationSchema, res.routes[0]!).value as {
      virtual_hosts: { routes: { route: { weighted_clusters?: { clusters: { name: string; weight: { value: number } }[] } } }[] }[];
    };
    const last = route.virtual_hosts[0]!.routes.at(-1)!;
    expect(last.route.weighted_clusters!.clusters.map((c) => [c.name, c.weight.value])).toEqual([
      ['model|grpc-echo|a', 50],
      ['model|grpc-echo|b', 50],
    ]);
    expect(res.clusters.every((c) => c.transportSocket === undefined)).toBe(true);
    expect(res.secretNames).toEqual([]);
    expect(res.extensionConfigs).toEqual([]);
  });

  it('gives every locality group a locality and a weight (grpc skips unweighted ones)', () => {
    for (const e of r().endpoints) {
      for (const g of e.endpoints) {
        expect(g.locality).toBeDefined();
        expect(g.loadBalancingWeight).toBeGreaterThan(0);
      }
    }
  });

  it('refuses hostname endpoints for proxyless clients: validation names the workload, translation the model version', () => {
    const m = sampleModel();
    const explicit = { ...m, workloads: m.workloads.map((w) => (w.name === 'client' ? { ...w, models: ['chat'] } : w)) };
    expect(() => translateAll(explicit, { role: 'proxyless', workload: 'apps/client' }, { now })).toThrow(/workload "apps\/client" models\[0\]: conflict/);
    expect(() => translateAll(explicit, { role: 'proxyless', workload: 'apps/client' }, { now, validated: true })).toThrow(
      /model "chat" versions\[1\].*hostname 'chat-v2.models.svc'/,
    );
  });

  it('without an explicit model list, leaves out models it cannot resolve', () => {
    const m = sampleModel();
    const implicit = { ...m, workloads: m.workloads.map((w) => (w.name === 'client' ? { name: w.name, namespace: w.namespace, serviceAccount: w.serviceAccount, role: w.role } : w)) };
    const res = translateAll(implicit, { role: 'proxyless', workload: 'apps/client' }, { now });
    expect(res.listeners.map((l) => l.name)).toEqual(['embed', 'grpc-echo']);
    expectAccepted(res);
  });
});

describe('proxyless server resources', () => {
  it('use the grpc server listener name template with the bound address and non-forwarding routes', () => {
    const res = translateAll(sampleModel(), { role: 'proxyless', workload: 'models/echo-server' }, { now });
    expectAccepted(res);
    expect(res.listeners.map((l) => l.name)).toEqual([grpcServerListenerName('127.0.0.1', 50051)]);
    expect(res.listeners[0]!.name).toBe('grpc/server?xds.resource.listening_address=127.0.0.1:50051');
    const sa = res.listeners[0]!.address!.address;
    expect(sa.case === 'socketAddress' && sa.value.address === '127.0.0.1').toBe(true);
    expect(res.routes[0]!.virtualHosts[0]!.routes.every((x) => x.action.case === 'nonForwardingAction')).toBe(true);
  });

  it('carries the RBAC filter (rules only, no shadow) before the router, or none when disabled', () => {
    const filters = (res: TranslatedResources) => {
      const ct = res.listeners[0]!.filterChains[0]!.filters[0]!.configType;
      if (ct.case !== 'typedConfig') throw new Error('no typed config');
      return anyUnpack(ct.value, HttpConnectionManagerSchema)!.httpFilters;
    };
    const withRbac = filters(translateAll(sampleModel(), { role: 'proxyless', workload: 'models/echo-server' }, { now }));
    expect(withRbac.map((f) => f.name)).toEqual(['envoy.filters.http.rbac', 'envoy.filters.http.router']);
    const rbacAny = withRbac[0]!.configType;
    if (rbacAny.case !== 'typedConfig') throw new Error('rbac not typed');
    const rbac = anyUnpack(rbacAny.value, RBACSchema)!;
    // apps-infer#0 is limited to model chat (not served here); the dry-run policy is Envoy-only.
    expect(Object.keys(rbac.rules!.policies).sort()).toEqual(['apps-infer#1', 'echo-callers#0', 'office-hours#0']);
    expect(rbac.shadowRules).toBeUndefined();
    const without = filters(translateAll(sampleModel(), { role: 'proxyless', workload: 'models/echo-server' }, { now, proxylessRbac: false }));
    expect(without.map((f) => f.name)).toEqual(['envoy.filters.http.router']);
  });

  it('the grpc validator really rejects a bad shape (router not last)', () => {
    const res = translateAll(sampleModel(), { role: 'proxyless', workload: 'models/echo-server' }, { now });
    const l = clone(ListenerSchema, res.listeners[0]!);
    const f = l.filterChains[0]!.filters[0]!;
    if (f.configType.case !== 'typedConfig') throw new Error('no typed config');
    const hcm = anyUnpack(f.configType.value, HttpConnectionManagerSchema)!;
    hcm.httpFilters.reverse();
    f.configType.value = anyPack(HttpConnectionManagerSchema, hcm);
    expect(decode(types.listener, ListenerSchema, l).error).toMatch(/router filter is before the end|final filter/);
  });
});
