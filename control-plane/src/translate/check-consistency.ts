/**
 * Pure consistency check of a translated resource set, like go-control-plane's
 * `Snapshot.Consistent()` but deeper: every name a resource references must resolve.
 * - Listener (filter chains, default chain, api_listener) → RouteConfiguration (HCM RDS),
 *   TypedExtensionConfig (config_discovery filters without a default), Secret (SDS names must be
 *   ones the CA serves per identity, and listed in `secretNames`), clusters of gRPC access logs
 *   (HCM `access_log` and listener-level `access_log`; static clusters or ones in the snapshot).
 * - Listener with a transport_protocol filter chain match → tls_inspector listener filter.
 * - RouteConfiguration → Cluster (route cluster, weighted clusters, mirrors); weighted clusters
 *   with a positive total; typed_per_filter_config keys → HTTP filters of a listener using it.
 * - Cluster (EDS) → ClusterLoadAssignment; Cluster → Secret (upstream SDS).
 * - TypedExtensionConfig (Wasm) → Cluster (remote code fetch; the meshward filter's
 *   `budgets.lease.cluster`, which it calls with proxy_http_call).
 * - Names unique per type.
 * Returns every problem (empty when consistent); never throws.
 */
import { StringValueSchema, anyIs, anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { Cluster_DiscoveryType } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import type { TransportSocket } from '../gen/envoy/config/core/v3/base_pb.js';
import type { AccessLog } from '../gen/envoy/config/accesslog/v3/accesslog_pb.js';
import type { ConfigSource } from '../gen/envoy/config/core/v3/config_source_pb.js';
import type { FilterChain } from '../gen/envoy/config/listener/v3/listener_components_pb.js';
import { HttpGrpcAccessLogConfigSchema, TcpGrpcAccessLogConfigSchema } from '../gen/envoy/extensions/access_loggers/grpc/v3/als_pb.js';
import { WasmSchema } from '../gen/envoy/extensions/filters/http/wasm/v3/wasm_pb.js';
import { HttpConnectionManagerSchema } from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { SdsSecretConfig } from '../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import {
  DownstreamTlsContextSchema,
  UpstreamTlsContextSchema,
  type CommonTlsContext,
} from '../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { ALS_CLUSTER, LISTENER_FILTER_TLS_INSPECTOR, SECRET_TRUST_BUNDLE, SECRET_WORKLOAD_CERT, XDS_CLUSTER } from './names.js';
import type { TranslatedResources } from './translated-resources.js';

export type ResourceType = 'Listener' | 'RouteConfiguration' | 'Cluster' | 'ClusterLoadAssignment' | 'TypedExtensionConfig';

/** One broken reference (or duplicate), naming the resource and where in it. */
export interface ConsistencyError {
  readonly type: ResourceType;
  readonly name: string;
  /** Field path inside the resource, e.g. `filter_chains[0].filters[0].rds`. */
  readonly field: string;
  readonly reason: string;
}

export interface ConsistencyOptions {
  /** Clusters defined statically in every bootstrap. Defaults to `meshward_als`, `xds_cluster`. */
  readonly staticClusters?: readonly string[];
  /** Secrets served per identity outside snapshots. Defaults to `default`, `ROOTCA`. */
  readonly perIdentitySecrets?: readonly string[];
}

const fromUs = (cs: ConfigSource | undefined): boolean => cs?.configSourceSpecifier.case === 'ads' || cs?.configSourceSpecifier.case === 'self';

export function checkConsistency(res: TranslatedResources, options: ConsistencyOptions = {}): ConsistencyError[] {
  const errors: ConsistencyError[] = [];
  const err = (type: ResourceType, name: string, field: string, reason: string): void => {
    errors.push({ type, name, field, reason });
  };
  const unique = (type: ResourceType, names: readonly string[]): Set<string> => {
    const seen = new Set<string>();
    for (const n of names) {
      if (n === '') err(type, n, 'name', 'resource has an empty name');
      else if (seen.has(n)) err(type, n, 'name', `two ${type} resources are named "${n}"`);
      seen.add(n);
    }
    return seen;
  };
  const routeNames = unique('RouteConfiguration', res.routes.map((r) => r.name));
  const clusterNames = unique('Cluster', res.clusters.map((c) => c.name));
  const claNames = unique('ClusterLoadAssignment', res.endpoints.map((e) => e.clusterName));
  const ecdsNames = unique('TypedExtensionConfig', res.extensionConfigs.map((e) => e.name));
  unique('Listener', res.listeners.map((l) => l.name));
  const staticClusters = new Set(options.staticClusters ?? [ALS_CLUSTER, XDS_CLUSTER]);
  const secrets = new Set(options.perIdentitySecrets ?? [SECRET_WORKLOAD_CERT, SECRET_TRUST_BUNDLE]);
  const declaredSecrets = new Set(res.secretNames);
  /** Route configuration name → HTTP filter names of the HCMs that use it. */
  const filtersByRoute = new Map<string, Set<string>>();

  const checkSds = (type: ResourceType, name: string, field: string, s: SdsSecretConfig | undefined): void => {
    if (!s) return;
    if (!fromUs(s.sdsConfig)) err(type, name, field, `secret "${s.name}" is not fetched over ADS`);
    else if (!secrets.has(s.name)) err(type, name, field, `secret "${s.name}" is not served`);
    else if (!declaredSecrets.has(s.name)) err(type, name, field, `secret "${s.name}" is missing from secretNames`);
  };
  const checkCommon = (type: ResourceType, name: string, field: string, c: CommonTlsContext | undefined): void => {
    if (!c) return;
    c.tlsCertificateSdsSecretConfigs.forEach((s, i) => checkSds(type, name, `${field}.tls_certificate_sds_secret_configs[${i}]`, s));
    const v = c.validationContextType;
    if (v.case === 'validationContextSdsSecretConfig') checkSds(type, name, `${field}.validation_context_sds_secret_config`, v.value);
    if (v.case === 'combinedValidationContext') {
      checkSds(type, name, `${field}.combined_validation_context.validation_context_sds_secret_config`, v.value.validationContextSdsSecretConfig);
    }
  };
  const checkSocket = (type: ResourceType, name: string, field: string, ts: TransportSocket | undefined): void => {
    if (!ts || ts.configType.case !== 'typedConfig') return;
    const any = ts.configType.value;
    try {
      if (anyIs(any, DownstreamTlsContextSchema)) checkCommon(type, name, `${field}.common_tls_context`, anyUnpack(any, DownstreamTlsContextSchema)?.commonTlsContext);
      else if (anyIs(any, UpstreamTlsContextSchema)) checkCommon(type, name, `${field}.common_tls_context`, anyUnpack(any, UpstreamTlsContextSchema)?.commonTlsContext);
      else err(type, name, field, `unexpected transport socket config ${any.typeUrl}`);
    } catch (e) {
      err(type, name, field, `cannot decode ${any.typeUrl}: ${(e as Error).message}`);
    }
  };
  /** gRPC access logs (HTTP or TCP) must name a static cluster or one in the snapshot. */
  const checkAccessLogs = (lname: string, field: string, logs: readonly AccessLog[]): void => {
    logs.forEach((al, i) => {
      if (al.configType.case !== 'typedConfig') return;
      const any = al.configType.value;
      let cfg;
      try {
        if (anyIs(any, HttpGrpcAccessLogConfigSchema)) cfg = anyUnpack(any, HttpGrpcAccessLogConfigSchema);
        else if (anyIs(any, TcpGrpcAccessLogConfigSchema)) cfg = anyUnpack(any, TcpGrpcAccessLogConfigSchema);
        else return;
      } catch (e) {
        err('Listener', lname, `${field}[${i}]`, `cannot decode ${any.typeUrl}: ${(e as Error).message}`);
        return;
      }
      const target = cfg?.commonConfig?.grpcService?.targetSpecifier;
      if (target?.case === 'envoyGrpc' && !staticClusters.has(target.value.clusterName) && !clusterNames.has(target.value.clusterName)) {
        err('Listener', lname, `${field}[${i}]`, `access log cluster "${target.value.clusterName}" does not exist`);
      }
    });
  };
  const checkHcm = (lname: string, field: string, any: Any): void => {
    if (!anyIs(any, HttpConnectionManagerSchema)) {
      err('Listener', lname, field, `expected an HttpConnectionManager, got ${any.typeUrl}`);
      return;
    }
    let hcm;
    try {
      hcm = anyUnpack(any, HttpConnectionManagerSchema)!;
    } catch (e) {
      err('Listener', lname, field, `cannot decode HttpConnectionManager: ${(e as Error).message}`);
      return;
    }
    const rs = hcm.routeSpecifier;
    if (rs.case !== 'rds') err('Listener', lname, `${field}.route_specifier`, 'meshward listeners use RDS');
    else if (!fromUs(rs.value.configSource)) err('Listener', lname, `${field}.rds`, 'RDS is not over ADS');
    else if (!routeNames.has(rs.value.routeConfigName)) {
      err('Listener', lname, `${field}.rds`, `route configuration "${rs.value.routeConfigName}" does not exist`);
    }
    const filterNames = new Set<string>();
    hcm.httpFilters.forEach((f, i) => {
      if (filterNames.has(f.name)) err('Listener', lname, `${field}.http_filters[${i}]`, `HTTP filter "${f.name}" appears twice`);
      filterNames.add(f.name);
      if (f.configType.case === 'configDiscovery') {
        const cd = f.configType.value;
        if (!fromUs(cd.configSource)) err('Listener', lname, `${field}.http_filters[${i}]`, `filter "${f.name}" is not discovered over ADS`);
        else if (cd.defaultConfig === undefined && !ecdsNames.has(f.name)) {
          err('Listener', lname, `${field}.http_filters[${i}]`, `extension config "${f.name}" does not exist`);
        }
      }
    });
    const last = hcm.httpFilters[hcm.httpFilters.length - 1];
    if (!last || last.name !== 'envoy.filters.http.router') err('Listener', lname, `${field}.http_filters`, 'the router must be the last HTTP filter');
    if (rs.case === 'rds') {
      const set = filtersByRoute.get(rs.value.routeConfigName) ?? new Set<string>();
      for (const n of filterNames) set.add(n);
      filtersByRoute.set(rs.value.routeConfigName, set);
    }
    checkAccessLogs(lname, `${field}.access_log`, hcm.accessLog);
  };
  const checkChain = (lname: string, field: string, chain: FilterChain | undefined): void => {
    if (!chain) return;
    chain.filters.forEach((f, i) => {
      if (f.configType.case === 'typedConfig') checkHcm(lname, `${field}.filters[${i}]`, f.configType.value);
    });
    checkSocket('Listener', lname, `${field}.transport_socket`, chain.transportSocket);
  };

  for (const l of res.listeners) {
    checkAccessLogs(l.name, 'access_log', l.accessLog);
    l.filterChains.forEach((c, i) => checkChain(l.name, `filter_chains[${i}]`, c));
    checkChain(l.name, 'default_filter_chain', l.defaultFilterChain);
    if (l.apiListener?.apiListener) checkHcm(l.name, 'api_listener.api_listener', l.apiListener.apiListener);
    if (!l.apiListener && l.filterChains.length === 0 && !l.defaultFilterChain) err('Listener', l.name, 'filter_chains', 'listener has no filter chain');
    const needsInspector = l.filterChains.some((c) => (c.filterChainMatch?.transportProtocol ?? '') !== '');
    if (needsInspector && !l.listenerFilters.some((f) => f.name === LISTENER_FILTER_TLS_INSPECTOR)) {
      err('Listener', l.name, 'listener_filters', 'filter chains match on transport_protocol but there is no tls_inspector');
    }
  }

  for (const rc of res.routes) {
    const filters = filtersByRoute.get(rc.name);
    rc.virtualHosts.forEach((vh, v) => {
      vh.routes.forEach((r, i) => {
        const field = `virtual_hosts[${v}].routes[${i}]`;
        for (const key of Object.keys(r.typedPerFilterConfig)) {
          if (filters && !filters.has(key)) err('RouteConfiguration', rc.name, `${field}.typed_per_filter_config`, `no listener using this route has an HTTP filter "${key}"`);
        }
        if (r.action.case !== 'route') return;
        const ra = r.action.value;
        const need = (c: string, f: string): void => {
          if (!clusterNames.has(c)) err('RouteConfiguration', rc.name, `${field}.${f}`, `cluster "${c}" does not exist`);
        };
        if (ra.clusterSpecifier.case === 'cluster') need(ra.clusterSpecifier.value, 'route.cluster');
        else if (ra.clusterSpecifier.case === 'weightedClusters') {
          const wcs = ra.clusterSpecifier.value.clusters;
          wcs.forEach((wc, j) => need(wc.name, `route.weighted_clusters.clusters[${j}]`));
          if (wcs.reduce((s, wc) => s + (wc.weight ?? 0), 0) <= 0) err('RouteConfiguration', rc.name, `${field}.route.weighted_clusters`, 'weights sum to 0');
        } else err('RouteConfiguration', rc.name, `${field}.route`, `unsupported cluster specifier ${String(ra.clusterSpecifier.case)}`);
        ra.requestMirrorPolicies.forEach((m, j) => need(m.cluster, `route.request_mirror_policies[${j}]`));
      });
    });
  }

  for (const c of res.clusters) {
    if (c.clusterDiscoveryType.case === 'type' && c.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS) {
      const eds = c.edsClusterConfig;
      if (!eds || !fromUs(eds.edsConfig)) err('Cluster', c.name, 'eds_cluster_config', 'EDS is not over ADS');
      else {
        const svc = eds.serviceName !== '' ? eds.serviceName : c.name;
        if (!claNames.has(svc)) err('Cluster', c.name, 'eds_cluster_config', `ClusterLoadAssignment "${svc}" does not exist`);
      }
    }
    checkSocket('Cluster', c.name, 'transport_socket', c.transportSocket);
  }

  for (const e of res.extensionConfigs) {
    const any = e.typedConfig;
    if (!any) {
      err('TypedExtensionConfig', e.name, 'typed_config', 'is missing');
      continue;
    }
    if (!anyIs(any, WasmSchema)) continue;
    const w = anyUnpack(any, WasmSchema);
    const vm = w?.config?.vm;
    if (vm?.case !== 'vmConfig') {
      err('TypedExtensionConfig', e.name, 'typed_config.config.vm_config', 'is missing');
      continue;
    }
    const code = vm.value.code?.specifier;
    if (code?.case === 'remote') {
      const up = code.value.httpUri?.httpUpstreamType;
      if (up?.case !== 'cluster' || (!clusterNames.has(up.value) && !staticClusters.has(up.value))) {
        err('TypedExtensionConfig', e.name, 'typed_config.config.vm_config.code.remote.http_uri.cluster', `cluster "${up?.value ?? ''}" does not exist`);
      }
      if (code.value.sha256 === '') err('TypedExtensionConfig', e.name, 'typed_config.config.vm_config.code.remote.sha256', 'remote code needs a sha256');
    } else if (code?.case !== 'local') {
      err('TypedExtensionConfig', e.name, 'typed_config.config.vm_config.code', 'no code source');
    }
    const leaseCluster = budgetLeaseClusterOf(w?.config?.configuration);
    if (leaseCluster !== undefined && !clusterNames.has(leaseCluster) && !staticClusters.has(leaseCluster)) {
      err('TypedExtensionConfig', e.name, 'typed_config.config.configuration.budgets.lease.cluster', `cluster "${leaseCluster}" does not exist`);
    }
  }
  return errors;
}

/** The cluster a meshward filter config (JSON in a StringValue) asks budget leases from, if any. */
function budgetLeaseClusterOf(configuration: Any | undefined): string | undefined {
  if (configuration === undefined || !anyIs(configuration, StringValueSchema)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(anyUnpack(configuration, StringValueSchema)?.value ?? '');
  } catch {
    return undefined; // not JSON: not a meshward config this check understands
  }
  const lease = (json as { budgets?: { lease?: { cluster?: unknown } } } | null)?.budgets?.lease;
  return typeof lease?.cluster === 'string' ? lease.cluster : undefined;
}

/** One line per error, for logs and error messages. */
export function formatConsistencyError(e: ConsistencyError): string {
  return `${e.type} "${e.name}" ${e.field}: ${e.reason}`;
}
