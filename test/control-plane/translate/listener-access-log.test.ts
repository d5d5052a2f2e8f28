/**
 * The listener-level gRPC access log (`envoy.access_loggers.tcp_grpc` → `meshward_als`) on gateway
 * and sidecar listeners: the only log that sees refused TLS handshakes. Present by default on every
 * generated inbound listener, absent when the mesh disables access logging, round-trips through
 * binary and JSON, and a listener-level log naming a missing cluster is refused by checkConsistency.
 */
import { describe, expect, it } from 'vitest';
import { clone, fromBinary, fromJson, toBinary, toJson } from '@bufbuild/protobuf';
import { anyIs, anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { sampleModel } from '../model/fixtures.js';
import { checkConsistency, envoyRegistry, formatConsistencyError, translateAll, type NodeGroup, type TranslatedResources } from '../../../control-plane/src/translate/index.js';
import { listenerAccessLog } from '../../../control-plane/src/translate/listeners.js';
import { ListenerSchema, type Listener } from '../../../control-plane/src/gen/envoy/config/listener/v3/listener_pb.js';
import { ApiVersion } from '../../../control-plane/src/gen/envoy/config/core/v3/config_source_pb.js';
import { TcpGrpcAccessLogConfigSchema } from '../../../control-plane/src/gen/envoy/extensions/access_loggers/grpc/v3/als_pb.js';
import type { MeshModel } from '../../../control-plane/src/model/mesh-model.js';

const now = new Date('2026-11-25T10:00:00Z');

const permissive = (m: MeshModel): MeshModel => ({ ...m, mesh: { ...m.mesh, mtlsMode: 'PERMISSIVE' } });
function logging(m: MeshModel, enabled: boolean | undefined): MeshModel {
  const { accessLog: _drop, ...mesh } = m.mesh;
  return { ...m, mesh: enabled === undefined ? mesh : { ...mesh, accessLog: { enabled } } };
}

const groups: [string, (m: MeshModel) => MeshModel, NodeGroup, string][] = [
  ['gateway STRICT', (m) => m, { role: 'gateway', workload: 'gw/edge' }, 'gateway|8443'],
  ['gateway PERMISSIVE', permissive, { role: 'gateway', workload: 'gw/edge' }, 'gateway|8443'],
  ['sidecar STRICT', (m) => m, { role: 'sidecar', workload: 'models/chat-v1' }, 'inbound|15006'],
  ['sidecar PERMISSIVE', permissive, { role: 'sidecar', workload: 'models/chat-v1' }, 'inbound|15006'],
];

function inbound(model: MeshModel, group: NodeGroup, name: string): Listener {
  const l = translateAll(model, group, { now }).listeners.find((x) => x.name === name);
  if (!l) throw new Error(`no listener ${name}`);
  return l;
}

function tcpGrpc(l: Listener) {
  return l.accessLog.map((al) => {
    if (al.configType.case !== 'typedConfig') throw new Error(`access log ${al.name} has no typed_config`);
    expect(anyIs(al.configType.value, TcpGrpcAccessLogConfigSchema)).toBe(true);
    return { name: al.name, cfg: anyUnpack(al.configType.value, TcpGrpcAccessLogConfigSchema)! };
  });
}

describe('listener-level access log', () => {
  describe.each(groups)('%s', (_label, shape, group, name) => {
    it.each<[string, boolean | undefined]>([
      ['by default (accessLog unset)', undefined],
      ['with accessLog.enabled = true', true],
    ])('is present %s: tcp_grpc to meshward_als, log name meshward, API v3', (_l, enabled) => {
      const logs = tcpGrpc(inbound(logging(shape(sampleModel()), enabled), group, name));
      expect(logs).toHaveLength(1);
      const { name: logger, cfg } = logs[0]!;
      expect(logger).toBe('envoy.access_loggers.tcp_grpc');
      const common = cfg.commonConfig!;
      expect(common.logName).toBe('meshward');
      expect(common.transportApiVersion).toBe(ApiVersion.V3);
      const target = common.grpcService!.targetSpecifier;
      expect(target.case).toBe('envoyGrpc');
      expect(target.case === 'envoyGrpc' && target.value.clusterName).toBe('meshward_als');
    });

    it('is absent when the mesh disables access logging (and so is the HCM log)', () => {
      const l = inbound(logging(shape(sampleModel()), false), group, name);
      expect(l.accessLog).toEqual([]);
      expect(l.filterChains.length).toBeGreaterThan(0);
    });

    it('round-trips through binary and proto3 JSON with the Envoy registry', () => {
      const l = inbound(shape(sampleModel()), group, name);
      expect(l.accessLog).toHaveLength(1);
      const bin = fromBinary(ListenerSchema, toBinary(ListenerSchema, l));
      expect(tcpGrpc(bin)).toEqual(tcpGrpc(l));
      const json = toJson(ListenerSchema, l, { registry: envoyRegistry });
      const al = (json as { accessLog?: { name: string; typedConfig: Record<string, unknown> }[] }).accessLog;
      expect(al?.[0]?.name).toBe('envoy.access_loggers.tcp_grpc');
      expect(al?.[0]?.typedConfig['@type']).toBe('type.googleapis.com/envoy.extensions.access_loggers.grpc.v3.TcpGrpcAccessLogConfig');
      expect(tcpGrpc(fromJson(ListenerSchema, json, { registry: envoyRegistry }))).toEqual(tcpGrpc(l));
    });
  });

  it('is not added to proxyless listeners (no Envoy, no ALS client)', () => {
    const res = translateAll(sampleModel(), { role: 'proxyless', workload: 'apps/client' }, { now });
    for (const l of res.listeners) expect(l.accessLog).toEqual([]);
  });
});

describe('checkConsistency on listener-level access logs', () => {
  const gw = (): TranslatedResources => translateAll(sampleModel(), { role: 'gateway', workload: 'gw/edge' }, { now });
  const withListenerLog = (r: TranslatedResources, cluster: string): TranslatedResources => {
    const l = clone(ListenerSchema, r.listeners[0]!);
    const al = listenerAccessLog();
    if (al.configType.case !== 'typedConfig') throw new Error('no typed_config');
    const cfg = anyUnpack(al.configType.value, TcpGrpcAccessLogConfigSchema)!;
    const target = cfg.commonConfig!.grpcService!.targetSpecifier;
    if (target.case !== 'envoyGrpc') throw new Error('not envoy_grpc');
    target.value.clusterName = cluster;
    al.configType = { case: 'typedConfig', value: anyPack(TcpGrpcAccessLogConfigSchema, cfg) };
    l.accessLog = [al];
    return { ...r, listeners: [l, ...r.listeners.slice(1)] };
  };

  it.each<[string, (r: TranslatedResources) => TranslatedResources, string[]]>([
    ['the generated log (static meshward_als)', (r) => r, []],
    ['a cluster that exists in the snapshot', (r) => withListenerLog(r, r.clusters[0]!.name), []],
    ['a missing cluster', (r) => withListenerLog(r, 'nope_als'), ['Listener "gateway|8443" access_log[0]: access log cluster "nope_als" does not exist']],
  ])('%s', (_label, mutate, expected) => {
    expect(checkConsistency(mutate(gw())).map(formatConsistencyError)).toEqual(expected);
  });

  it('refuses the missing cluster when meshward_als is not static either', () => {
    const errs = checkConsistency(gw(), { staticClusters: ['xds_cluster'] }).map(formatConsistencyError);
    expect(errs).toContain('Listener "gateway|8443" access_log[0]: access log cluster "meshward_als" does not exist');
    // the HCM's HTTP log is refused at its own field path, too
    expect(errs.some((e) => /^Listener "gateway\|8443" filter_chains\[0\]\.filters\[0\]\.access_log\[0\]: access log cluster "meshward_als" does not exist$/.test(e))).toBe(true);
  });

  it('reports a listener-level log whose config cannot be decoded', () => {
    const r = gw();
    const l = clone(ListenerSchema, r.listeners[0]!);
    const al = l.accessLog[0]!;
    if (al.configType.case !== 'typedConfig') throw new Error('no typed_config');
    al.configType.value.value = new Uint8Array([0x0a, 0xff]);
    const errs = checkConsistency({ ...r, listeners: [l, ...r.listeners.slice(1)] }).map(formatConsistencyError);
    expect(errs.some((e) => /^Listener "gateway\|8443" access_log\[0\]: cannot decode type\.googleapis\.com\/envoy\.extensions\.access_loggers\.grpc\.v3\.TcpGrpcAccessLogConfig: /.test(e))).toBe(true);
  });
});
