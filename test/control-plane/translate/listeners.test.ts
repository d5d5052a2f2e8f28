/** Listener TLS per mTLS mode, HCM settings, clusters' upstream TLS/protocol, endpoints. */
import { describe, expect, it } from 'vitest';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { sampleModel, TD } from '../model/fixtures.js';
import { translateAll } from '../../../control-plane/src/translate/index.js';
import type { Listener } from '../../../control-plane/src/gen/envoy/config/listener/v3/listener_pb.js';
import type { TransportSocket } from '../../../control-plane/src/gen/envoy/config/core/v3/base_pb.js';
import { DownstreamTlsContextSchema, UpstreamTlsContextSchema, type CommonTlsContext } from '../../../control-plane/src/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { SubjectAltNameMatcher_SanType } from '../../../control-plane/src/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import {
  HttpConnectionManagerSchema,
  HttpConnectionManager_ForwardClientCertDetails,
  HttpConnectionManager_PathWithEscapedSlashesAction,
} from '../../../control-plane/src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { HttpGrpcAccessLogConfigSchema } from '../../../control-plane/src/gen/envoy/extensions/access_loggers/grpc/v3/als_pb.js';
import { HttpProtocolOptionsSchema } from '../../../control-plane/src/gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { Cluster_DiscoveryType } from '../../../control-plane/src/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { MeshModel } from '../../../control-plane/src/model/mesh-model.js';

const now = new Date('2026-11-25T10:00:00Z');

function sdsNames(c: CommonTlsContext) {
  const v = c.validationContextType;
  if (v.case !== 'combinedValidationContext') throw new Error(`validation ${String(v.case)}`);
  return {
    cert: c.tlsCertificateSdsSecretConfigs.map((s) => [s.name, s.sdsConfig!.configSourceSpecifier.case]),
    bundle: [v.value.validationContextSdsSecretConfig!.name, v.value.validationContextSdsSecretConfig!.sdsConfig!.configSourceSpecifier.case],
    sans: v.value.defaultValidationContext!.matchTypedSubjectAltNames.map((s) => {
      const p = s.matcher!.matchPattern;
      return [s.sanType, p.case, p.value];
    }),
  };
}
function downstream(ts: TransportSocket | undefined) {
  if (ts?.configType.case !== 'typedConfig') throw new Error('no transport socket');
  return anyUnpack(ts.configType.value, DownstreamTlsContextSchema)!;
}

describe('inbound listener per mTLS mode', () => {
  it('STRICT: one chain requiring a client cert, SDS default/ROOTCA over ADS, URI SAN in the trust domain', () => {
    const l = translateAll(sampleModel(), { role: 'gateway', workload: 'gw/edge' }, { now }).listeners[0]!;
    expect(l.listenerFilters).toEqual([]);
    expect(l.filterChains.map((c) => c.name)).toEqual(['mtls']);
    const tls = downstream(l.filterChains[0]!.transportSocket);
    expect(tls.requireClientCertificate).toBe(true);
    expect(tls.commonTlsContext!.alpnProtocols).toEqual(['h2', 'http/1.1']);
    expect(sdsNames(tls.commonTlsContext!)).toEqual({
      cert: [['default', 'ads']],
      bundle: ['ROOTCA', 'ads'],
      sans: [[SubjectAltNameMatcher_SanType.URI, 'prefix', `spiffe://${TD}/`]],
    });
    const sa = l.address!.address;
    expect(sa.case === 'socketAddress' && [sa.value.address, sa.value.portSpecifier.value]).toEqual(['0.0.0.0', 8443]);
  });

  it('PERMISSIVE (namespace setting): tls_inspector, a tls chain with mTLS and a raw_buffer chain without', () => {
    const l: Listener = translateAll(sampleModel(), { role: 'gateway', workload: 'legacy/legacy-edge' }, { now }).listeners[0]!;
    expect(l.listenerFilters.map((f) => f.name)).toEqual(['envoy.filters.listener.tls_inspector']);
    expect(l.filterChains.map((c) => [c.name, c.filterChainMatch?.transportProtocol, c.transportSocket !== undefined])).toEqual([
      ['mtls', 'tls', true],
      ['plaintext', 'raw_buffer', false],
    ]);
    expect(downstream(l.filterChains[0]!.transportSocket).requireClientCertificate).toBe(true);
    // Same HCM on both chains.
    expect(l.filterChains[0]!.filters).toEqual(l.filterChains[1]!.filters);
  });

  it('a workload mode overrides the namespace and mesh modes', () => {
    const m = sampleModel();
    const strictLegacy: MeshModel = { ...m, workloads: m.workloads.map((w) => (w.name === 'legacy-edge' ? { ...w, mtlsMode: 'STRICT' } : w)) };
    const l = translateAll(strictLegacy, { role: 'gateway', workload: 'legacy/legacy-edge' }, { now }).listeners[0]!;
    expect(l.filterChains.map((c) => c.name)).toEqual(['mtls']);
  });

  it('HCM: RDS over ADS, XFCC sanitize-set with URI, path normalization, gRPC access log hook', () => {
    const l = translateAll(sampleModel(), { role: 'sidecar', workload: 'models/chat-v1' }, { now }).listeners[0]!;
    expect(l.name).toBe('inbound|15006');
    const f = l.filterChains[0]!.filters[0]!;
    if (f.configType.case !== 'typedConfig') throw new Error('no hcm');
    const hcm = anyUnpack(f.configType.value, HttpConnectionManagerSchema)!;
    expect(hcm.statPrefix).toBe('meshward_inbound');
    expect(hcm.routeSpecifier.case === 'rds' && hcm.routeSpecifier.value.routeConfigName).toBe('inbound|15006');
    expect(hcm.forwardClientCertDetails).toBe(HttpConnectionManager_ForwardClientCertDetails.SANITIZE_SET);
    expect(hcm.setCurrentClientCertDetails!.uri).toBe(true);
    expect(hcm.normalizePath).toBe(true);
    expect(hcm.mergeSlashes).toBe(true);
    expect(hcm.pathWithEscapedSlashesAction).toBe(HttpConnectionManager_PathWithEscapedSlashesAction.REJECT_REQUEST);
    expect(hcm.useRemoteAddress).toBe(false);
    const al = hcm.accessLog[0]!;
    if (al.configType.case !== 'typedConfig') throw new Error('no als');
    const als = anyUnpack(al.configType.value, HttpGrpcAccessLogConfigSchema)!;
    expect(als.commonConfig!.grpcService!.targetSpecifier).toEqual(expect.objectContaining({ case: 'envoyGrpc', value: expect.objectContaining({ clusterName: 'meshward_als' }) }));
    expect(als.commonConfig!.filterStateObjectsToLog).toEqual(['wasm.meshward.summary']);
    expect(als.additionalRequestHeadersToLog).toEqual(['x-meshward-model', 'x-meshward-model-version']);
  });

  it('access logging can be turned off mesh-wide', () => {
    const m = sampleModel();
    const l = translateAll({ ...m, mesh: { ...m.mesh, accessLog: { enabled: false } } }, { role: 'gateway', workload: 'gw/edge' }, { now }).listeners[0]!;
    const f = l.filterChains[0]!.filters[0]!;
    if (f.configType.case !== 'typedConfig') throw new Error('no hcm');
    expect(anyUnpack(f.configType.value, HttpConnectionManagerSchema)!.accessLog).toEqual([]);
  });
});

describe('clusters and endpoints', () => {
  const res = translateAll(sampleModel(), { role: 'gateway', workload: 'gw/edge' }, { now });
  const cluster = (n: string) => res.clusters.find((c) => c.name === n)!;
  const upstream = (n: string) => {
    const ts = cluster(n).transportSocket;
    if (ts?.configType.case !== 'typedConfig') return undefined;
    return anyUnpack(ts.configType.value, UpstreamTlsContextSchema)!;
  };

  it('EDS over ADS for IP endpoints, STRICT_DNS inline for hostnames', () => {
    expect(cluster('model|chat|v1').clusterDiscoveryType).toEqual({ case: 'type', value: Cluster_DiscoveryType.EDS });
    expect(cluster('model|chat|v1').edsClusterConfig!.edsConfig!.configSourceSpecifier.case).toBe('ads');
    expect(cluster('model|chat|v2').clusterDiscoveryType).toEqual({ case: 'type', value: Cluster_DiscoveryType.STRICT_DNS });
    expect(res.endpoints.map((e) => e.clusterName)).not.toContain('model|chat|v2');
  });

  it('upstream mTLS verifies the version identities, or the trust domain; DISABLE has no socket', () => {
    expect(sdsNames(upstream('model|chat|v1')!.commonTlsContext!)).toEqual({
      cert: [['default', 'ads']],
      bundle: ['ROOTCA', 'ads'],
      sans: [[SubjectAltNameMatcher_SanType.URI, 'exact', `spiffe://${TD}/ns/models/sa/chat`]],
    });
    expect(sdsNames(upstream('model|chat|v2')!.commonTlsContext!).sans).toEqual([[SubjectAltNameMatcher_SanType.URI, 'prefix', `spiffe://${TD}/`]]);
    expect(upstream('model|chat|v1')!.commonTlsContext!.alpnProtocols).toEqual(['http/1.1']);
    // No identities listed, but a workload declares it serves grpc-echo/a: its identity is expected.
    expect(sdsNames(upstream('model|grpc-echo|a')!.commonTlsContext!).sans).toEqual([[SubjectAltNameMatcher_SanType.URI, 'exact', `spiffe://${TD}/ns/models/sa/echo`]]);
    expect(cluster('model|embed|v1').transportSocket).toBeUndefined();
  });

  it('http2 and grpc models get explicit HTTP/2 upstream options and h2 ALPN', () => {
    const opts = cluster('model|grpc-echo|a').typedExtensionProtocolOptions['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']!;
    const p = anyUnpack(opts, HttpProtocolOptionsSchema)!;
    expect(p.upstreamProtocolOptions.case === 'explicitHttpConfig' && p.upstreamProtocolOptions.value.protocolConfig.case).toBe('http2ProtocolOptions');
    expect(upstream('model|grpc-echo|a')!.commonTlsContext!.alpnProtocols).toEqual(['h2']);
    expect(cluster('model|chat|v1').typedExtensionProtocolOptions).toEqual({});
  });

  it('groups endpoints by locality with summed weights', () => {
    const cla = res.endpoints.find((e) => e.clusterName === 'model|chat|v1')!;
    expect(cla.endpoints.map((g) => [g.locality!.region, g.locality!.zone, g.loadBalancingWeight, g.lbEndpoints.map((e) => e.loadBalancingWeight)])).toEqual([
      ['eu', 'a', 1, [1]],
      ['eu', 'b', 3, [3]],
    ]);
  });

  it('sidecar: static plaintext local app cluster on 127.0.0.1:<appPort>', () => {
    const s = translateAll(sampleModel(), { role: 'sidecar', workload: 'models/chat-v1' }, { now });
    const app = s.clusters.find((c) => c.name === 'inbound|8000|app')!;
    expect(app.clusterDiscoveryType).toEqual({ case: 'type', value: Cluster_DiscoveryType.STATIC });
    expect(app.transportSocket).toBeUndefined();
    const ep = app.loadAssignment!.endpoints[0]!.lbEndpoints[0]!.hostIdentifier;
    expect(ep.case === 'endpoint' && ep.value.address!.address.case === 'socketAddress' && ep.value.address!.address.value).toMatchObject({
      address: '127.0.0.1',
      portSpecifier: { value: 8000 },
    });
  });
});
