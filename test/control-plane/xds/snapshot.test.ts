import { describe, expect, it } from 'vitest';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  DeltaDiscoveryResponseSchema,
  DiscoveryResponseSchema,
} from '../../../control-plane/src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { RouteConfigurationSchema } from '../../../control-plane/src/gen/envoy/config/route/v3/route_pb.js';
import { ClusterSchema } from '../../../control-plane/src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ListenerSchema } from '../../../control-plane/src/gen/envoy/config/listener/v3/listener_pb.js';
import { NodeSchema } from '../../../control-plane/src/gen/envoy/config/core/v3/base_pb.js';
import type { Listener } from '../../../control-plane/src/gen/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '../../../control-plane/src/gen/envoy/config/route/v3/route_pb.js';
import type { Cluster } from '../../../control-plane/src/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '../../../control-plane/src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { TypedExtensionConfig } from '../../../control-plane/src/gen/envoy/config/core/v3/extension_pb.js';
import {
  TypeUrl,
  XdsError,
  createSnapshot,
  createSnapshotCache,
  fromTranslatorCheck,
  groupByMetadata,
  schemaOfForTest,
  type TranslatedResourceSet,
} from './support.js';
import { encodeDeltaDiscoveryResponse } from '../../../control-plane/src/xds/wire.js';
import { meshResources, secretsOf } from './fixtures.js';

function refusal(fn: () => unknown): XdsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(XdsError);
    return err as XdsError;
  }
  throw new Error('expected a refusal');
}

describe('createSnapshot', () => {
  it('accepts a consistent snapshot and counts resources per type', () => {
    const s = createSnapshot({ version: 'v1', resources: meshResources() });
    expect(s.version).toBe('v1');
    expect(s.counts).toEqual({ CDS: 2, EDS: 2, LDS: 1, RDS: 1, SDS: 0, ECDS: 1 });
    expect(s.type(TypeUrl.Cluster).version).toBe('v1');
  });

  it('encodes each resource once; SotW bodies and delta fields decode with the generated types', () => {
    const s = createSnapshot({ version: 'v7', resources: meshResources() });
    const cds = s.type(TypeUrl.Cluster);
    const body = cds.sotwBody(undefined);
    expect(cds.sotwBody(undefined)).toBe(body); // cached, shared
    const resp = fromBinary(DiscoveryResponseSchema, body);
    expect(resp.versionInfo).toBe('v7');
    expect(resp.typeUrl).toBe(TypeUrl.Cluster);
    expect(resp.resources.map((a) => fromBinary(ClusterSchema, a.value).name).sort()).toEqual(['model-v1', 'model-v2']);
    const only = fromBinary(DiscoveryResponseSchema, cds.sotwBody(new Set(['model-v2', 'absent'])));
    expect(only.resources.map((a) => fromBinary(ClusterSchema, a.value).name)).toEqual(['model-v2']);
    const r = cds.resources.get('model-v1')!;
    const delta = fromBinary(
      DeltaDiscoveryResponseSchema,
      encodeDeltaDiscoveryResponse('v7', TypeUrl.Cluster, [r.deltaField()], ['gone'], 'n1'),
    );
    expect(delta.resources[0]!.name).toBe('model-v1');
    expect(delta.resources[0]!.version).toBe(r.version);
    expect(fromBinary(ClusterSchema, delta.resources[0]!.resource!.value).name).toBe('model-v1');
    expect(delta.removedResources).toEqual(['gone']);
    expect(delta.nonce).toBe('n1');
    // Round trip: the encoded bytes are exactly toBinary of the message.
    expect(Buffer.from(resp.resources[0]!.value)).toEqual(Buffer.from(toBinary(schemaOfForTest(TypeUrl.Cluster), r.message)));
  });

  it('resource versions are content hashes: same content → same version, changed content → new version', () => {
    const a = createSnapshot({ version: 'a', resources: meshResources() });
    const b = createSnapshot({ version: 'b', resources: meshResources() });
    const c = createSnapshot({ version: 'c', resources: meshResources({ weights: [50, 50] }) });
    const v = (s: typeof a) => s.type(TypeUrl.RouteConfiguration).resources.get('routes')!.version;
    expect(v(a)).toBe(v(b));
    expect(v(a)).not.toBe(v(c));
  });

  it.each([
    {
      what: 'a route naming a missing cluster',
      resources: () => meshResources().filter((m) => !(m.$typeName === 'envoy.config.cluster.v3.Cluster' && (m as unknown as { name: string }).name === 'model-v2')),
      expect: /RDS "routes": .*names cluster "model-v2" which is not in the snapshot/,
    },
    {
      what: 'a listener naming a missing route configuration',
      resources: () => meshResources().filter((m) => m.$typeName !== 'envoy.config.route.v3.RouteConfiguration'),
      expect: /LDS "ingress": .*rds names route configuration "routes"/,
    },
    {
      what: 'a listener naming a missing ECDS config',
      resources: () => meshResources().filter((m) => m.$typeName !== 'envoy.config.core.v3.TypedExtensionConfig'),
      expect: /LDS "ingress": .*"meshward".*config_discovery/,
    },
    {
      what: 'an EDS cluster without its ClusterLoadAssignment',
      resources: () =>
        meshResources().filter((m) => !(m.$typeName === 'envoy.config.endpoint.v3.ClusterLoadAssignment' && (m as unknown as { clusterName: string }).clusterName === 'model-v1')),
      expect: /CDS "model-v1": EDS cluster needs ClusterLoadAssignment "model-v1"/,
    },
  ])('refuses $what, naming the resource and the reason', (t) => {
    const e = refusal(() => createSnapshot({ version: 'x', resources: t.resources() }));
    expect(e.code).toBe('INCONSISTENT_SNAPSHOT');
    expect(e.message).toMatch(t.expect);
  });

  it('refuses a listener naming a secret that is neither per-identity nor in the snapshot', () => {
    const e = refusal(() => createSnapshot({ version: 'x', resources: meshResources() }, { perIdentitySecretNames: ['other'] }));
    expect(e.code).toBe('INCONSISTENT_SNAPSHOT');
    expect(e.message).toMatch(/LDS "ingress": .*names secret "default" which is not served/);
    expect(e.typeUrl).toBe(TypeUrl.Listener);
    expect(e.resourceName).toBe('ingress');
  });

  it('refuses malformed input: empty version, empty names, duplicates, foreign types, secrets in a group snapshot', () => {
    expect(refusal(() => createSnapshot({ version: '', resources: [] })).message).toMatch(/^version: /);
    expect(refusal(() => createSnapshot({ version: 'v', resources: [create(ClusterSchema, { name: '' })] })).message).toMatch(/CDS resource has an empty name/);
    const dup = refusal(() => createSnapshot({ version: 'v', resources: [create(ClusterSchema, { name: 'a' }), create(ClusterSchema, { name: 'a' })] }));
    expect(dup.message).toMatch(/CDS "a": duplicate resource name/);
    expect(refusal(() => createSnapshot({ version: 'v', resources: [create(NodeSchema, { id: 'n' })] })).message).toMatch(/resources\[0\]: type envoy.config.core.v3.Node is not served/);
    expect(refusal(() => createSnapshot({ version: 'v', resources: { [TypeUrl.Cluster]: [create(ListenerSchema, { name: 'l' })] } })).message).toMatch(/is not a type.googleapis.com\/envoy.config.cluster.v3.Cluster/);
    const sec = refusal(() => createSnapshot({ version: 'v', resources: secretsOf('spiffe://x/ns/a/sa/b') }));
    expect(sec.message).toMatch(/SDS "default": secrets are served per identity/);
    // Allowed explicitly (e.g. a shared trust bundle).
    expect(createSnapshot({ version: 'v', resources: secretsOf('x').slice(1) }, { allowSharedSecrets: true }).counts.SDS).toBe(1);
  });

  it('uses a pluggable consistency check', () => {
    const e = refusal(() =>
      createSnapshot(
        { version: 'v', resources: [create(RouteConfigurationSchema, { name: 'r' })] },
        { consistencyCheck: () => [{ typeUrl: TypeUrl.RouteConfiguration, name: 'r', reason: 'custom reason' }] },
      ),
    );
    expect(e.message).toBe('RDS "r": custom reason');
  });
});

describe('translator integration', () => {
  it("accepts the translator's TranslatedResources shape and plugs its checkConsistency in", async () => {
    const { checkConsistency } = await import('../../../control-plane/src/translate/check-consistency.js');
    const all = meshResources();
    const of = <M,>(t: string) => all.filter((m) => m.$typeName === t) as unknown as M[];
    const set: TranslatedResourceSet = {
      listeners: of<Listener>('envoy.config.listener.v3.Listener'),
      routes: of<RouteConfiguration>('envoy.config.route.v3.RouteConfiguration'),
      clusters: of<Cluster>('envoy.config.cluster.v3.Cluster'),
      endpoints: of<ClusterLoadAssignment>('envoy.config.endpoint.v3.ClusterLoadAssignment'),
      extensionConfigs: of<TypedExtensionConfig>('envoy.config.core.v3.TypedExtensionConfig'),
      secretNames: ['ROOTCA', 'default'],
    };
    const check = fromTranslatorCheck(checkConsistency);
    const s = createSnapshot({ version: 't1', resources: set }, { consistencyCheck: check });
    expect(s.counts).toEqual({ CDS: 2, EDS: 2, LDS: 1, RDS: 1, SDS: 0, ECDS: 1 });
    const broken = { ...set, clusters: set.clusters.slice(0, 1), endpoints: set.endpoints.slice(0, 1) };
    const e = refusal(() => createSnapshot({ version: 't2', resources: broken }, { consistencyCheck: check }));
    expect(e.code).toBe('INCONSISTENT_SNAPSHOT');
    expect(e.message).toMatch(/^RDS "routes": .*model-v2/);
  });
});

describe('createSnapshotCache', () => {
  it('groups nodes by metadata role, then cluster, then default', () => {
    const cache = createSnapshotCache();
    expect(cache.groupOf(create(NodeSchema, { id: 'a', metadata: { role: 'gateway' } }))).toBe('role=gateway');
    expect(cache.groupOf(create(NodeSchema, { id: 'a', cluster: 'svc' }))).toBe('cluster=svc');
    expect(cache.groupOf(create(NodeSchema, { id: 'a' }))).toBe('default');
    const byTwo = groupByMetadata(['role', 'zone']);
    expect(byTwo(create(NodeSchema, { id: 'a', metadata: { role: 'sidecar', zone: 'z1' } }))).toBe('role=sidecar,zone=z1');
  });

  it('keeps the version of types whose content did not change and notifies watchers', () => {
    const cache = createSnapshotCache();
    const seen: string[] = [];
    const stop = cache.watch('g', (s) => seen.push(s.version));
    const first = cache.setSnapshot('g', createSnapshot({ version: 'v1', resources: meshResources() }));
    const second = cache.setSnapshot('g', createSnapshot({ version: 'v2', resources: meshResources({ weights: [50, 50] }) }));
    expect(seen).toEqual(['v1', 'v2']);
    expect(second.type(TypeUrl.RouteConfiguration).version).toBe('v2');
    expect(second.type(TypeUrl.Cluster).version).toBe('v1');
    expect(second.type(TypeUrl.Cluster)).toBe(first.type(TypeUrl.Cluster)); // shared bytes and cached bodies
    stop();
    cache.setSnapshot('g', createSnapshot({ version: 'v3', resources: meshResources() }));
    expect(seen).toEqual(['v1', 'v2']);
  });

  it('refuses a reused version with different content; the previous snapshot keeps serving', () => {
    const cache = createSnapshotCache();
    cache.setSnapshot('g', createSnapshot({ version: 'v1', resources: meshResources() }));
    const e = refusal(() => cache.setSnapshot('g', createSnapshot({ version: 'v1', resources: meshResources({ weights: [1, 1] }) })));
    expect(e.message).toMatch(/version: "v1" was already published for group "g" with different content/);
    expect(cache.getSnapshot('g')!.type(TypeUrl.RouteConfiguration).resources.get('routes')!.version).toBe(
      createSnapshot({ version: 'z', resources: meshResources() }).type(TypeUrl.RouteConfiguration).resources.get('routes')!.version,
    );
  });
});
