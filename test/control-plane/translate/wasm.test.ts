/** DLP policies → ECDS TypedExtensionConfigs and the HCM's config_discovery filters. */
import { describe, expect, it } from 'vitest';
import { toJson } from '@bufbuild/protobuf';
import { StringValueSchema, anyUnpack } from '@bufbuild/protobuf/wkt';
import { sampleModel } from '../model/fixtures.js';
import { checkConsistency, dlpHttpFilter, envoyRegistry, stableJson, translateAll } from '../../../control-plane/src/translate/index.js';
import { WasmSchema } from '../../../control-plane/src/gen/envoy/extensions/filters/http/wasm/v3/wasm_pb.js';
import { TypedExtensionConfigSchema } from '../../../control-plane/src/gen/envoy/config/core/v3/extension_pb.js';
import { HttpConnectionManagerSchema } from '../../../control-plane/src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { Cluster_DiscoveryType } from '../../../control-plane/src/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { MeshModel } from '../../../control-plane/src/model/mesh-model.js';

const now = new Date('2026-11-25T10:00:00Z');
const gateway = (m: MeshModel = sampleModel()) => translateAll(m, { role: 'gateway', workload: 'gw/edge' }, { now });

function wasmOf(m: MeshModel, name: string) {
  const ecds = gateway(m).extensionConfigs.find((e) => e.name === name)!;
  return anyUnpack(ecds.typedConfig!, WasmSchema)!;
}

describe('ECDS Wasm config', () => {
  it('packs a PluginConfig with root id, V8 VmConfig in the vm oneof, local code and the JSON config', () => {
    const w = wasmOf(sampleModel(), 'meshward.dlp');
    const c = w.config!;
    expect(c.name).toBe('meshward.dlp');
    expect(c.rootId).toBe('meshward');
    expect(c.failOpen).toBe(false);
    expect(c.vm.case).toBe('vmConfig');
    if (c.vm.case !== 'vmConfig') return;
    expect(c.vm.value.runtime).toBe('envoy.wasm.runtime.v8');
    expect(c.vm.value.vmId).toBe('meshward.dlp');
    expect(c.vm.value.allowPrecompiled).toBe(true);
    const code = c.vm.value.code!.specifier;
    expect(code.case === 'local' && code.value.specifier.case === 'filename' && code.value.specifier.value).toBe('/etc/meshward/meshward.wasm');
    const cfg = anyUnpack(c.configuration!, StringValueSchema)!;
    expect(JSON.parse(cfg.value)).toEqual({ mode: 'enforce', detectors: { email: 'redact', credit_card: 'block' } });
    // The JSON form shows vmConfig where Envoy expects it (a key outside the oneof would be lost).
    const json = toJson(TypedExtensionConfigSchema, gateway().extensionConfigs[0]!, { registry: envoyRegistry }) as Record<string, any>;
    expect(json['typedConfig']['@type']).toBe('type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm');
    expect(json['typedConfig']['config']['vmConfig']['runtime']).toBe('envoy.wasm.runtime.v8');
    expect(json['typedConfig']['config']['configuration']).toEqual({
      '@type': 'type.googleapis.com/google.protobuf.StringValue',
      value: '{"detectors":{"credit_card":"block","email":"redact"},"mode":"enforce"}',
    });
  });

  it('fail_open follows the failure mode; model scope gets its own VM', () => {
    const w = wasmOf(sampleModel(), 'meshward.dlp.chat');
    expect(w.config!.failOpen).toBe(true);
    expect(w.config!.vm.case === 'vmConfig' && w.config!.vm.value.vmId).toBe('meshward.dlp.chat');
  });

  it('remote code: http_uri through a generated DNS+TLS cluster, sha256, retries, timeout', () => {
    const m: MeshModel = {
      ...sampleModel(),
      filterModules: [{ name: 'default', source: { kind: 'remote', url: 'https://wasm.example.com/v1/meshward.wasm', retries: 3 }, sha256: 'ab'.repeat(32), allowPrecompiled: false }],
    };
    const res = gateway(m);
    const c = anyUnpack(res.extensionConfigs[0]!.typedConfig!, WasmSchema)!.config!;
    if (c.vm.case !== 'vmConfig') throw new Error('no vm');
    expect(c.vm.value.allowPrecompiled).toBe(false);
    const code = c.vm.value.code!.specifier;
    if (code.case !== 'remote') throw new Error('not remote');
    expect(code.value.sha256).toBe('ab'.repeat(32));
    expect(code.value.httpUri!.uri).toBe('https://wasm.example.com/v1/meshward.wasm');
    expect(code.value.httpUri!.httpUpstreamType).toEqual({ case: 'cluster', value: 'wasm|default' });
    expect(Number(code.value.httpUri!.timeout!.seconds)).toBe(30);
    expect(code.value.retryPolicy!.numRetries).toBe(3);
    const fetch = res.clusters.find((x) => x.name === 'wasm|default')!;
    expect(fetch.clusterDiscoveryType).toEqual({ case: 'type', value: Cluster_DiscoveryType.STRICT_DNS });
    expect(fetch.transportSocket?.name).toBe('envoy.transport_sockets.tls');
    const ep = fetch.loadAssignment!.endpoints[0]!.lbEndpoints[0]!.hostIdentifier;
    expect(ep.case === 'endpoint' && ep.value.address!.address.case === 'socketAddress' && ep.value.address!.address.value).toMatchObject({
      address: 'wasm.example.com',
      portSpecifier: { case: 'portValue', value: 443 },
    });
    expect(checkConsistency(res)).toEqual([]);
    // Without the fetch cluster the ECDS resource is reported.
    const broken = { ...res, clusters: res.clusters.filter((x) => x.name !== 'wasm|default') };
    expect(checkConsistency(broken).map((e) => `${e.type} ${e.name} ${e.field}`)).toEqual([
      'TypedExtensionConfig meshward.dlp typed_config.config.vm_config.code.remote.http_uri.cluster',
      'TypedExtensionConfig meshward.dlp.chat typed_config.config.vm_config.code.remote.http_uri.cluster',
    ]);
  });

  it('stableJson sorts keys at every depth so equal configs give equal bytes', () => {
    expect(stableJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
  });
});

describe('HCM filter chain', () => {
  const filterNames = (m: MeshModel, group: Parameters<typeof translateAll>[1]) => {
    const f = translateAll(m, group, { now }).listeners[0]!.filterChains[0]!.filters[0]!;
    if (f.configType.case !== 'typedConfig') throw new Error('no hcm');
    return anyUnpack(f.configType.value, HttpConnectionManagerSchema)!.httpFilters;
  };

  it('orders RBAC, local rate limit, DLP (global then model), router; model scopes disabled by default', () => {
    const filters = filterNames(sampleModel(), { role: 'gateway', workload: 'gw/edge' });
    expect(filters.map((f) => [f.name, f.disabled])).toEqual([
      ['envoy.filters.http.rbac', false],
      ['envoy.filters.http.local_ratelimit', false],
      ['meshward.dlp', false],
      ['meshward.dlp.chat', true],
      ['envoy.filters.http.router', false],
    ]);
    const dlp = filters[2]!.configType;
    expect(dlp.case).toBe('configDiscovery');
    if (dlp.case !== 'configDiscovery') return;
    expect(dlp.value.typeUrls).toEqual(['type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm']);
    expect(dlp.value.defaultConfig).toBeUndefined();
    expect(dlp.value.applyDefaultConfigWithoutWarming).toBe(false);
    expect(dlp.value.configSource!.configSourceSpecifier.case).toBe('ads');
  });

  it('leaves out the rate limiter and DLP filters that do not apply', () => {
    const filters = filterNames(sampleModel(), { role: 'gateway', labels: { app: 'legacy' } });
    expect(filters.map((f) => f.name)).toEqual(['envoy.filters.http.rbac', 'meshward.dlp', 'envoy.filters.http.router']);
    const none = filterNames({ ...sampleModel(), dlpPolicies: [], rateLimits: [] }, { role: 'sidecar', workload: 'models/chat-v1' });
    expect(none.map((f) => f.name)).toEqual(['envoy.filters.http.rbac', 'envoy.filters.http.router']);
  });

  it('dlpHttpFilter names the filter after the ECDS resource', () => {
    const p = sampleModel().dlpPolicies[1]!;
    expect(dlpHttpFilter(p).name).toBe('meshward.dlp.chat');
  });
});
