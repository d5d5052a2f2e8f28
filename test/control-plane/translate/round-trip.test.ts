/**
 * Every generated resource, for every role and mTLS mode, round-trips through the generated Envoy
 * types: binary (toBinary/fromBinary) and proto3 JSON (toJson/fromJson with the registry of every
 * packed Any type), and is consistent.
 */
import { describe, expect, it } from 'vitest';
import { equals, fromBinary, fromJson, toBinary, toJson, type DescMessage, type Message } from '@bufbuild/protobuf';
import { sampleModel, TD } from '../model/fixtures.js';
import { checkConsistency, envoyRegistry, translateAll, validateProtoRules, type NodeGroup, type TranslatedResources } from '../../../control-plane/src/translate/index.js';
import { ListenerSchema } from '../../../control-plane/src/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../../control-plane/src/gen/envoy/config/route/v3/route_pb.js';
import { ClusterSchema } from '../../../control-plane/src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../control-plane/src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { TypedExtensionConfigSchema } from '../../../control-plane/src/gen/envoy/config/core/v3/extension_pb.js';
import type { MeshModel } from '../../../control-plane/src/model/mesh-model.js';

const now = new Date('2026-11-25T10:00:00Z');

function permissive(m: MeshModel): MeshModel {
  return { ...m, mesh: { ...m.mesh, mtlsMode: 'PERMISSIVE' } };
}
function remoteModule(m: MeshModel): MeshModel {
  return {
    ...m,
    filterModules: [{ name: 'default', source: { kind: 'remote', url: 'https://wasm.example.com:8443/meshward.wasm', timeoutMs: 5000, retries: 2 }, sha256: 'a'.repeat(64) }],
  };
}

const cases: [string, MeshModel, NodeGroup][] = [
  ['gateway STRICT', sampleModel(), { role: 'gateway', workload: 'gw/edge' }],
  ['gateway PERMISSIVE', permissive(sampleModel()), { role: 'gateway', workload: 'gw/edge' }],
  ['gateway by labels, namespace PERMISSIVE', sampleModel(), { role: 'gateway', labels: { app: 'legacy', pod: 'x' } }],
  ['gateway with a remote module', remoteModule(sampleModel()), { role: 'gateway', workload: 'gw/edge' }],
  ['sidecar STRICT', sampleModel(), { role: 'sidecar', workload: 'models/chat-v1' }],
  ['sidecar PERMISSIVE', permissive(sampleModel()), { role: 'sidecar', workload: 'models/chat-v1' }],
  ['proxyless client', sampleModel(), { role: 'proxyless', workload: 'apps/client' }],
  ['proxyless server', sampleModel(), { role: 'proxyless', workload: 'models/echo-server' }],
];

function roundTrip<D extends DescMessage>(schema: D, msg: Message): void {
  const m = msg as never;
  const bin = toBinary(schema, m);
  expect(equals(schema, fromBinary(schema, bin) as never, m), `${schema.typeName} binary`).toBe(true);
  const json = toJson(schema, m, { registry: envoyRegistry });
  const back = fromJson(schema, json, { registry: envoyRegistry });
  expect(equals(schema, back as never, m), `${schema.typeName} JSON`).toBe(true);
  // Byte-stable: encoding the decoded message again gives the same bytes.
  expect(Buffer.from(toBinary(schema, back as never)).equals(Buffer.from(bin))).toBe(true);
}

function all(r: TranslatedResources): [DescMessage, Message][] {
  return [
    ...r.listeners.map((x) => [ListenerSchema, x] as [DescMessage, Message]),
    ...r.routes.map((x) => [RouteConfigurationSchema, x] as [DescMessage, Message]),
    ...r.clusters.map((x) => [ClusterSchema, x] as [DescMessage, Message]),
    ...r.endpoints.map((x) => [ClusterLoadAssignmentSchema, x] as [DescMessage, Message]),
    ...r.extensionConfigs.map((x) => [TypedExtensionConfigSchema, x] as [DescMessage, Message]),
  ];
}

describe.each(cases)('%s', (_label, model, group) => {
  const r = translateAll(model, group, { now });

  it('produces resources that round-trip binary and JSON', () => {
    const items = all(r);
    expect(items.length).toBeGreaterThanOrEqual(2);
    for (const [schema, msg] of items) roundTrip(schema, msg);
  });

  it("satisfies the protoc-gen-validate rules of Envoy's API (what Envoy checks before accepting)", () => {
    const violations = all(r).flatMap(([schema, msg]) => validateProtoRules(schema, msg, envoyRegistry).map((v) => `${schema.typeName}: ${v}`));
    expect(violations).toEqual([]);
  });

  it('is consistent', () => {
    expect(checkConsistency(r)).toEqual([]);
  });

  it('is deterministic (same input, identical bytes)', () => {
    const again = translateAll(model, group, { now });
    const a = all(r).map(([s, m]) => Buffer.from(toBinary(s, m as never)).toString('hex'));
    const b = all(again).map(([s, m]) => Buffer.from(toBinary(s, m as never)).toString('hex'));
    expect(b).toEqual(a);
  });
});

describe('translateAll errors', () => {
  it('rejects an invalid model with every issue', () => {
    const m = sampleModel();
    const bad = { ...m, mesh: { trustDomain: 'Bad TD' } };
    expect(() => translateAll(bad, { role: 'gateway', workload: 'gw/edge' }, { now })).toThrow(/mesh "Bad TD" trustDomain: invalid/);
  });
  it('names a missing workload and a role mismatch', () => {
    expect(() => translateAll(sampleModel(), { role: 'gateway', workload: 'gw/nope' }, { now })).toThrow(/workload "gw\/nope": does not exist/);
    expect(() => translateAll(sampleModel(), { role: 'sidecar', workload: 'gw/edge' }, { now })).toThrow(/has role gateway, the node says sidecar/);
  });
  it('refuses an ambiguous label match', () => {
    const m = sampleModel();
    const twin = { ...m.workloads[0]!, name: 'edge-2', labels: { app: 'edge' } };
    expect(() => translateAll({ ...m, workloads: [...m.workloads, twin] }, { role: 'gateway', labels: { app: 'edge' } }, { now })).toThrow(
      /matches 2 workloads \(gw\/edge, gw\/edge-2\)/,
    );
  });
  it('uses the trust domain of the model in SAN matchers', () => {
    const r = translateAll(sampleModel(), { role: 'gateway', workload: 'gw/edge' }, { now });
    const json = JSON.stringify(toJson(ListenerSchema, r.listeners[0]!, { registry: envoyRegistry }));
    expect(json).toContain(`"prefix":"spiffe://${TD}/"`);
  });
});
