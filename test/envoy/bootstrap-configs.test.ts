/**
 * The Envoy configs under envoy/ decode into envoy.config.bootstrap.v3.Bootstrap (proto3 JSON rules,
 * every packed Any resolved through the registry), so a typo in a field name or an @type fails CI.
 * Also checks that the decoder really rejects unknown fields, and the contracts the control plane
 * relies on (ADS to xds_cluster, static meshward_als, join token metadata, node role).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { StringValueSchema, anyUnpack } from '@bufbuild/protobuf/wkt';
import { BootstrapSchema, type Bootstrap } from '../../control-plane/src/gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { HttpConnectionManagerSchema } from '../../control-plane/src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { WasmSchema } from '../../control-plane/src/gen/envoy/extensions/filters/http/wasm/v3/wasm_pb.js';
import { ALS_CLUSTER, XDS_CLUSTER, envoyRegistry, validateProtoRules, WASM_ROOT_ID, WASM_RUNTIME_V8 } from '../../control-plane/src/translate/index.js';

const dir = fileURLToPath(new URL('../../envoy/', import.meta.url));
const load = (file: string): JsonValue => parse(readFileSync(dir + file, 'utf8')) as JsonValue;
const decode = (json: JsonValue): Bootstrap => fromJson(BootstrapSchema, json, { registry: envoyRegistry });

describe.each([
  ['gateway-bootstrap.yaml', 'gateway'],
  ['sidecar-bootstrap.yaml', 'sidecar'],
])('%s', (file, role) => {
  const b = decode(load(file));

  it('decodes and re-encodes losslessly', () => {
    const again = decode(toJson(BootstrapSchema, b, { registry: envoyRegistry }));
    expect(again).toEqual(b);
  });

  it(`declares node role ${role} and a workload`, () => {
    expect(b.node!.id).not.toBe('');
    expect(b.node!.metadata).toMatchObject({ role, 'meshward.workload': expect.stringMatching(/^[a-z0-9-]+\/[a-z0-9-]+$/) });
  });

  it('gets LDS and CDS over ADS (gRPC, v3) from xds_cluster with the join token in initial metadata', () => {
    const dr = b.dynamicResources!;
    expect(dr.ldsConfig!.configSourceSpecifier.case).toBe('ads');
    expect(dr.cdsConfig!.configSourceSpecifier.case).toBe('ads');
    const ads = dr.adsConfig!;
    expect(ads.transportApiVersion).toBe(2); // V3
    const svc = ads.grpcServices[0]!;
    expect(svc.targetSpecifier.case === 'envoyGrpc' && svc.targetSpecifier.value.clusterName).toBe(XDS_CLUSTER);
    expect(svc.initialMetadata.map((h) => h.key)).toEqual(['x-meshward-join-token']);
  });

  it('defines xds_cluster and meshward_als statically, speaking HTTP/2, on loopback:18000; admin on loopback', () => {
    const names = b.staticResources!.clusters.map((c) => c.name);
    expect(names).toEqual([XDS_CLUSTER, ALS_CLUSTER]);
    for (const c of b.staticResources!.clusters) {
      expect(Object.keys(c.typedExtensionProtocolOptions)).toEqual(['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']);
      const ep = c.loadAssignment!.endpoints[0]!.lbEndpoints[0]!.hostIdentifier;
      const sa = ep.case === 'endpoint' ? ep.value.address!.address : undefined;
      expect(sa?.case === 'socketAddress' && [sa.value.address, sa.value.portSpecifier.value]).toEqual(['127.0.0.1', 18000]);
    }
    const admin = b.admin!.address!.address;
    expect(admin.case === 'socketAddress' && admin.value.address).toBe('127.0.0.1');
  });
});

describe('static-filter.yaml', () => {
  const b = decode(load('static-filter.yaml'));

  it('has the meshward Wasm filter from a local file with an inline JSON config, before the router', () => {
    const l = b.staticResources!.listeners[0]!;
    const f = l.filterChains[0]!.filters[0]!;
    if (f.configType.case !== 'typedConfig') throw new Error('no HCM');
    const hcm = anyUnpack(f.configType.value, HttpConnectionManagerSchema)!;
    expect(hcm.httpFilters.map((x) => x.name)).toEqual(['meshward.dlp', 'envoy.filters.http.router']);
    const wct = hcm.httpFilters[0]!.configType;
    if (wct.case !== 'typedConfig') throw new Error('no wasm');
    const cfg = anyUnpack(wct.value, WasmSchema)!.config!;
    expect(cfg.rootId).toBe(WASM_ROOT_ID);
    expect(cfg.failOpen).toBe(false);
    if (cfg.vm.case !== 'vmConfig') throw new Error('vm_config not in the vm oneof');
    expect(cfg.vm.value.runtime).toBe(WASM_RUNTIME_V8);
    const code = cfg.vm.value.code!.specifier;
    expect(code.case === 'local' && code.value.specifier.case === 'filename' && code.value.specifier.value).toBe('/etc/meshward/meshward.wasm');
    const json = JSON.parse(anyUnpack(cfg.configuration!, StringValueSchema)!.value) as Record<string, unknown>;
    expect(json).toMatchObject({ mode: 'enforce', detectors: expect.objectContaining({ credit_card: 'block' }) });
  });

  it('routes to a static model server cluster and needs no control plane', () => {
    expect(b.dynamicResources).toBeUndefined();
    expect(b.staticResources!.clusters.map((c) => c.name)).toEqual(['model_server']);
  });
});

describe.each(['gateway-bootstrap.yaml', 'sidecar-bootstrap.yaml', 'static-filter.yaml'])('%s PGV rules', (file) => {
  it("satisfies the protoc-gen-validate rules of Envoy's API", () => {
    expect(validateProtoRules(BootstrapSchema, decode(load(file)), envoyRegistry)).toEqual([]);
  });
});

describe('the decoder is strict', () => {
  it('rejects an unknown field (a typo) at any depth', () => {
    const j = load('gateway-bootstrap.yaml') as Record<string, any>;
    j['dynamic_resources']['ads_config']['api_typo'] = 'GRPC';
    expect(() => decode(j)).toThrow(/api_typo/);
  });
  it('rejects an unknown field inside a packed Any', () => {
    const j = load('static-filter.yaml') as Record<string, any>;
    j['static_resources']['listeners'][0]['filter_chains'][0]['filters'][0]['typed_config']['stat_prefx'] = 'x';
    expect(() => decode(j)).toThrow(/stat_prefx/);
  });
  it('rejects an @type missing from the registry', () => {
    const j = load('static-filter.yaml') as Record<string, any>;
    j['static_resources']['listeners'][0]['filter_chains'][0]['filters'][0]['typed_config']['@type'] = 'type.googleapis.com/envoy.nope.v3.Nope';
    expect(() => decode(j)).toThrow(/envoy\.nope\.v3\.Nope/);
  });
  it('PGV rules catch what JSON decoding accepts (empty cluster name, zero connect timeout)', () => {
    const j = load('gateway-bootstrap.yaml') as Record<string, any>;
    j['static_resources']['clusters'][0]['connect_timeout'] = '0s';
    j['dynamic_resources']['ads_config']['grpc_services'][0]['envoy_grpc']['cluster_name'] = '';
    const v = validateProtoRules(BootstrapSchema, decode(j), envoyRegistry);
    expect(v).toContain('static_resources.clusters[0].connect_timeout: must be > 0ns');
    expect(v.some((x) => x.startsWith('dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name:'))).toBe(true);
  });
  it('rejects a wrong enum value and a bad duration', () => {
    const a = load('gateway-bootstrap.yaml') as Record<string, any>;
    a['dynamic_resources']['ads_config']['api_type'] = 'GRPCX';
    expect(() => decode(a)).toThrow(/api_type|GRPCX/);
    const d = load('gateway-bootstrap.yaml') as Record<string, any>;
    d['static_resources']['clusters'][0]['connect_timeout'] = '5 seconds';
    expect(() => decode(d)).toThrow();
  });
});
