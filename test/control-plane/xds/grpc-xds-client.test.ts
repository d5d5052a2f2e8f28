/**
 * Proof with gRPC's own xDS client (@grpc/grpc-js-xds, SotW): `xds:///` targets resolve through our
 * control plane to real gRPC backends on 127.0.0.1, weighted splits show in call counts, a weight
 * change published later shows in later calls, and RBAC is enforced on an xDS-enabled grpc-js
 * server. grpc-js-xds reads its bootstrap (and GRPC_XDS_EXPERIMENTAL_RBAC) once per process, so this
 * file runs alone in its fork and sets the environment before importing it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer as createNetServer } from 'node:net';
import { create, type Message } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { ListenerSchema } from '../../../control-plane/src/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../../control-plane/src/gen/envoy/config/route/v3/route_pb.js';
import { ClusterSchema, Cluster_DiscoveryType, Cluster_LbPolicy } from '../../../control-plane/src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../control-plane/src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { HttpConnectionManagerSchema } from '../../../control-plane/src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RouterSchema } from '../../../control-plane/src/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { RBACSchema as RbacFilterSchema } from '../../../control-plane/src/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { RBAC_Action } from '../../../control-plane/src/gen/envoy/config/rbac/v3/rbac_pb.js';
import { TrafficDirection } from '../../../control-plane/src/gen/envoy/config/core/v3/base_pb.js';
import { TypeUrl, createSnapshot, createSnapshotCache, createXdsServer, type SnapshotCache, type XdsServer } from './support.js';
import { eventually } from './harness.js';

const ads = { configSourceSpecifier: { case: 'ads' as const, value: {} } };
const GROUP = 'role=proxyless';
const METHOD = '/meshward.test.Model/Who';
const raw = (b: Buffer): Buffer => b;

const router = { name: 'envoy.filters.http.router', configType: { case: 'typedConfig' as const, value: anyPack(RouterSchema, create(RouterSchema)) } };

/** Client listener + route + clusters + endpoints for `xds:///model-a`, and the xDS-enabled server's listener. */
function proxylessResources(weights: [number, number], backends: [number, number], serverPort: number): Message[] {
  const cluster = (name: string) =>
    create(ClusterSchema, {
      name,
      clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
      edsClusterConfig: { edsConfig: ads },
      lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
    });
  const cla = (name: string, port: number) =>
    create(ClusterLoadAssignmentSchema, {
      clusterName: name,
      endpoints: [
        {
          locality: { region: 'local', zone: 'z1' },
          loadBalancingWeight: 1,
          lbEndpoints: [
            { hostIdentifier: { case: 'endpoint', value: { address: { address: { case: 'socketAddress', value: { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: port } } } } } } },
          ],
        },
      ],
    });
  const rbac = create(RbacFilterSchema, {
    rules: {
      action: RBAC_Action.ALLOW,
      policies: {
        'allow-alice': {
          permissions: [{ rule: { case: 'any', value: true } }],
          principals: [
            { identifier: { case: 'header', value: { name: 'x-caller', headerMatchSpecifier: { case: 'stringMatch', value: { matchPattern: { case: 'exact', value: 'alice' } } } } } },
          ],
        },
      },
    },
  });
  return [
    create(ListenerSchema, {
      name: 'model-a',
      apiListener: {
        apiListener: anyPack(
          HttpConnectionManagerSchema,
          create(HttpConnectionManagerSchema, {
            statPrefix: 'proxyless',
            routeSpecifier: { case: 'rds', value: { routeConfigName: 'proxyless|model-a', configSource: ads } },
            httpFilters: [router],
          }),
        ),
      },
    }),
    create(RouteConfigurationSchema, {
      name: 'proxyless|model-a',
      virtualHosts: [
        {
          name: 'model-a',
          domains: ['*'],
          routes: [
            {
              match: { pathSpecifier: { case: 'prefix', value: '' } },
              action: {
                case: 'route',
                value: {
                  clusterSpecifier: {
                    case: 'weightedClusters',
                    value: { clusters: [{ name: 'model-a-v1', weight: weights[0] }, { name: 'model-a-v2', weight: weights[1] }] },
                  },
                },
              },
            },
          ],
        },
      ],
    }),
    cluster('model-a-v1'),
    cluster('model-a-v2'),
    cla('model-a-v1', backends[0]),
    cla('model-a-v2', backends[1]),
    create(ListenerSchema, {
      name: `grpc/server?xds.resource.listening_address=127.0.0.1:${serverPort}`,
      address: { address: { case: 'socketAddress', value: { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: serverPort } } } },
      trafficDirection: TrafficDirection.INBOUND,
      filterChains: [
        {
          filters: [
            {
              name: 'envoy.filters.network.http_connection_manager',
              configType: {
                case: 'typedConfig',
                value: anyPack(
                  HttpConnectionManagerSchema,
                  create(HttpConnectionManagerSchema, {
                    statPrefix: 'inbound',
                    routeSpecifier: { case: 'rds', value: { routeConfigName: 'server-routes', configSource: ads } },
                    httpFilters: [{ name: 'envoy.filters.http.rbac', configType: { case: 'typedConfig', value: anyPack(RbacFilterSchema, rbac) } }, router],
                  }),
                ),
              },
            },
          ],
        },
      ],
    }),
    create(RouteConfigurationSchema, {
      name: 'server-routes',
      virtualHosts: [{ name: 'inbound', domains: ['*'], routes: [{ match: { pathSpecifier: { case: 'prefix', value: '' } }, action: { case: 'nonForwardingAction', value: {} } }] }],
    }),
  ];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function backend(name: string): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(
    { who: { path: METHOD, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } },
    { who: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from(name)) },
  );
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return { server, port };
}

function call(client: grpc.Client, metadata = new grpc.Metadata()): Promise<string> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(METHOD, raw, raw, Buffer.alloc(0), metadata, { deadline: Date.now() + 5000 }, (err, value) =>
      err ? reject(err) : resolve(value!.toString()),
    ),
  );
}

async function countSplit(client: grpc.Client, n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => call(client)));
    for (const b of batch) counts[b] = (counts[b] ?? 0) + 1;
  }
  return counts;
}

/** |observed − n·p| ≤ z·sqrt(n·p·(1−p)): a binomial bound (z = 5 → false-failure odds ~ 1 in 3.5 million). */
function expectBinomial(observed: number, n: number, p: number, z = 5): void {
  const sd = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(observed - n * p), `observed ${observed} of ${n}, expected ${n * p} ± ${(z * sd).toFixed(1)}`).toBeLessThanOrEqual(z * sd);
}

describe('@grpc/grpc-js-xds through the meshward control plane', () => {
  let cache: SnapshotCache;
  let xds: XdsServer;
  let v1: { server: grpc.Server; port: number };
  let v2: { server: grpc.Server; port: number };
  let serverPort: number;
  let client: grpc.Client;
  let xdsServer: grpc.Server;
  let version = 0;
  const publish = (weights: [number, number]) =>
    cache.setSnapshot(GROUP, createSnapshot({ version: `p${++version}`, resources: proxylessResources(weights, [v1.port, v2.port], serverPort) }));

  beforeAll(async () => {
    cache = createSnapshotCache();
    xds = createXdsServer({ cache });
    const xdsPort = await xds.listen();
    v1 = await backend('v1');
    v2 = await backend('v2');
    serverPort = await freePort();
    publish([80, 20]);
    process.env.GRPC_XDS_EXPERIMENTAL_RBAC = 'true';
    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
      xds_servers: [{ server_uri: `127.0.0.1:${xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      server_listener_resource_name_template: 'grpc/server?xds.resource.listening_address=%s',
      node: { id: 'grpc-proxyless-1', cluster: 'proxyless', locality: { region: 'local', zone: 'z1' }, metadata: { role: 'proxyless' } },
    });
    const grpcXds = await import('@grpc/grpc-js-xds');
    grpcXds.register();
    client = new grpc.Client('xds:///model-a', grpc.credentials.createInsecure());
    // The xDS-enabled server (RBAC) gets its listener from us as well.
    const XdsServer = grpcXds.XdsServer;
    xdsServer = new XdsServer();
    xdsServer.addService(
      { who: { path: METHOD, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } },
      { who: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from('guarded')) },
    );
    await new Promise<number>((res, rej) =>
      xdsServer.bindAsync(`127.0.0.1:${serverPort}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
    );
  });

  afterAll(async () => {
    client?.close();
    xdsServer?.forceShutdown();
    v1?.server.forceShutdown();
    v2?.server.forceShutdown();
    await xds?.close();
  });

  it('resolves xds:///model-a and splits calls by the published weights (80/20, binomial bound)', async () => {
    const n = 400;
    const counts = await countSplit(client, n);
    expect((counts.v1 ?? 0) + (counts.v2 ?? 0)).toBe(n);
    expectBinomial(counts.v2 ?? 0, n, 0.2);
    const st = h();
    expect(st.group).toBe(GROUP);
    expect(st.types.LDS!.subscribed).toContain('model-a'); // named LDS, not wildcard
    expect(st.types.RDS!.ackedVersion).toBe('p1');
  });

  it('a weight change published later shows in later calls (20/80)', async () => {
    publish([20, 80]);
    await eventually(() => h().types.RDS?.ackedVersion === 'p2', 5000, 'RDS p2 ACKed by grpc-js-xds');
    expect(h().types.CDS!.ackedVersion).toBe('p1'); // clusters did not change: no CDS push
    const n = 400;
    const counts = await countSplit(client, n);
    expectBinomial(counts.v2 ?? 0, n, 0.8);
  });

  it('RBAC on the xDS-enabled grpc-js server: the allowed caller passes, others get PERMISSION_DENIED', async () => {
    const direct = new grpc.Client(`127.0.0.1:${serverPort}`, grpc.credentials.createInsecure());
    const alice = new grpc.Metadata();
    alice.set('x-caller', 'alice');
    expect(await call(direct, alice)).toBe('guarded');
    const bob = new grpc.Metadata();
    bob.set('x-caller', 'bob');
    await expect(call(direct, bob)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    await expect(call(direct)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    direct.close();
  });

  it('grpc-js-xds NACKs an invalid resource; the NACK is recorded with its error_detail and the old config keeps serving', async () => {
    // A weighted cluster total of 0 is rejected by gRPC's RDS validation.
    publish([0, 0]);
    const nack = await eventually(() => h().types.RDS?.lastNack, 5000, 'RDS NACK');
    expect(nack.version).toBe('p3');
    expect(nack.message.length).toBeGreaterThan(0);
    expect(h().types.RDS!.ackedVersion).toBe('p2');
    const counts = await countSplit(client, 100);
    expect((counts.v1 ?? 0) + (counts.v2 ?? 0)).toBe(100);
    expect(cache.getSnapshot(GROUP)!.type(TypeUrl.RouteConfiguration).version).toBe('p3');
  });

  function h() {
    const s = xds.fleet.byNode('grpc-proxyless-1');
    expect(s.length).toBe(1);
    return s[0]!;
  }
});
