/**
 * The same proof as grpc-xds-client.test.ts, but with resources produced by the translator from a
 * domain model (translateAll for a proxyless node group) and checked by its checkConsistency on
 * publish: @grpc/grpc-js-xds resolves `xds:///grpc-echo`, follows the version split, picks up a
 * weight change, and the xDS-enabled server enforces the model's authorization policy (RBAC).
 * Own file: grpc-js-xds reads its bootstrap once per process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer as createNetServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { MeshModel } from '../../../control-plane/src/model/mesh-model.js';
import { checkConsistency, nodeGroupKey, nodeGroupOf, translateAll } from '../../../control-plane/src/translate/index.js';
import { XdsError, createPublisher, createSnapshotCache, createXdsServer, fromTranslatorCheck, type Publisher, type SnapshotCache, type XdsServer } from './support.js';
import { eventually } from './harness.js';

const METHOD = '/meshward.test.Echo/Who';
const raw = (b: Buffer): Buffer => b;

function model(ports: { a: number; b: number; server: number }, weights: [number, number]): MeshModel {
  return {
    mesh: { trustDomain: 'meshward.test', mtlsMode: 'PERMISSIVE' },
    workloads: [
      {
        name: 'echo', namespace: 'apps', serviceAccount: 'echo', role: 'proxyless', models: ['grpc-echo'],
        serves: { model: 'grpc-echo', version: 'a' }, listener: { address: '127.0.0.1', port: ports.server },
      },
    ],
    models: [
      {
        name: 'grpc-echo',
        protocol: 'grpc',
        versions: [
          { name: 'a', weight: weights[0], endpoints: [{ address: '127.0.0.1', port: ports.a }] },
          { name: 'b', weight: weights[1], endpoints: [{ address: '127.0.0.1', port: ports.b }] },
        ],
      },
    ],
    authorizationPolicies: [
      { name: 'echo-callers', workloads: ['apps/echo'], rules: [{ operations: [{ paths: [METHOD] }], headers: [{ name: 'x-caller', op: 'exact', value: 'alice' }] }] },
    ],
    rateLimits: [],
    dlpPolicies: [],
    filterModules: [],
  } as MeshModel;
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

const service = { who: { path: METHOD, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } };

async function backend(server: grpc.Server, name: string, address: string): Promise<number> {
  server.addService(service, { who: (_c: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from(name)) });
  return new Promise<number>((res, rej) => server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
}

function call(client: grpc.Client, metadata = new grpc.Metadata()): Promise<string> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(METHOD, raw, raw, Buffer.alloc(0), metadata, { deadline: Date.now() + 5000 }, (err, value) => (err ? reject(err) : resolve(value!.toString()))),
  );
}

async function split(client: grpc.Client, n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i += 50) {
    for (const r of await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => call(client)))) counts[r] = (counts[r] ?? 0) + 1;
  }
  return counts;
}

function expectBinomial(observed: number, n: number, p: number, z = 5): void {
  const sd = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(observed - n * p), `observed ${observed} of ${n}, expected ${n * p} ± ${(z * sd).toFixed(1)}`).toBeLessThanOrEqual(z * sd);
}

describe('grpc-js-xds with translated resources (translateAll → publisher → ADS)', () => {
  let cache: SnapshotCache;
  let xds: XdsServer;
  let publisher: Publisher<[number, number]>;
  const ports = { a: 0, b: 0, server: 0 };
  const a = new grpc.Server();
  const b = new grpc.Server();
  let guarded: grpc.Server;
  let client: grpc.Client;
  let version = 0;
  const NODE = { role: 'proxyless', 'meshward.workload': 'apps/echo' };

  beforeAll(async () => {
    cache = createSnapshotCache({
      groupOf: (node) => {
        const g = nodeGroupOf(node.metadata);
        if (typeof g === 'string') throw new XdsError('INVALID_REQUEST', g);
        return nodeGroupKey(g);
      },
    });
    const group = nodeGroupKey(nodeGroupOf(NODE) as Exclude<ReturnType<typeof nodeGroupOf>, string>);
    publisher = createPublisher<[number, number]>({
      cache,
      quietMs: 10,
      maxDelayMs: 50,
      snapshotOptions: { consistencyCheck: fromTranslatorCheck(checkConsistency) },
      build: (changes) => {
        const weights = changes.at(-1) ?? [80, 20];
        const resources = translateAll(model(ports, weights), nodeGroupOf(NODE) as Exclude<ReturnType<typeof nodeGroupOf>, string>, { now: new Date() });
        return new Map([[group, { version: `t${++version}`, resources }]]);
      },
    });
    xds = createXdsServer({ cache });
    const xdsPort = await xds.listen();
    ports.a = await backend(a, 'a', '127.0.0.1:0');
    ports.b = await backend(b, 'b', '127.0.0.1:0');
    ports.server = await freePort();
    publisher.notify([80, 20]);
    const first = await publisher.flush();
    expect(first.error).toBeUndefined();
    process.env.GRPC_XDS_EXPERIMENTAL_RBAC = 'true';
    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
      xds_servers: [{ server_uri: `127.0.0.1:${xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      server_listener_resource_name_template: 'grpc/server?xds.resource.listening_address=%s',
      node: { id: 'echo-1', cluster: 'echo', locality: { region: 'local', zone: 'z1' }, metadata: NODE },
    });
    const grpcXds = await import('@grpc/grpc-js-xds');
    grpcXds.register();
    client = new grpc.Client('xds:///grpc-echo', grpc.credentials.createInsecure());
    guarded = new grpcXds.XdsServer();
    await backend(guarded, 'guarded', `127.0.0.1:${ports.server}`);
  });

  afterAll(async () => {
    client?.close();
    guarded?.forceShutdown();
    a.forceShutdown();
    b.forceShutdown();
    publisher?.close();
    await xds?.close();
  });

  const status = () => xds.fleet.byNode('echo-1')[0]!;

  it('splits calls by the model version weights (80/20)', async () => {
    const n = 400;
    const counts = await split(client, n);
    expect((counts.a ?? 0) + (counts.b ?? 0)).toBe(n);
    expectBinomial(counts.b ?? 0, n, 0.2);
    expect(status().group).toBe('role=proxyless,workload=apps/echo');
  });

  it('a weight change published later shows in later calls (30/70)', async () => {
    publisher.notify([30, 70]);
    const r = await publisher.flush();
    expect(r.published).toHaveLength(1);
    const target = r.published[0]!.version;
    await eventually(() => status().types.RDS?.ackedVersion === target, 5000, `RDS ${target} ACKed`);
    expectBinomial((await split(client, 400)).b ?? 0, 400, 0.7);
  });

  it("enforces the model's authorization policy on the xDS-enabled server", async () => {
    const direct = new grpc.Client(`127.0.0.1:${ports.server}`, grpc.credentials.createInsecure());
    const alice = new grpc.Metadata();
    alice.set('x-caller', 'alice');
    expect(await call(direct, alice)).toBe('guarded');
    const eve = new grpc.Metadata();
    eve.set('x-caller', 'eve');
    await expect(call(direct, eve)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    direct.close();
  });

  it('a model the translator check refuses is not published; the previous config keeps serving', async () => {
    publisher.notify([0, 0]);
    const r = await publisher.flush();
    expect(r.published).toEqual([]);
    expect(r.error).toBeDefined();
    const counts = await split(client, 100);
    expect((counts.a ?? 0) + (counts.b ?? 0)).toBe(100);
  });
});
