import { fromBinary, type Message } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import type { Listener } from '../gen/envoy/config/listener/v3/listener_pb.js';
import type { FilterChain } from '../gen/envoy/config/listener/v3/listener_components_pb.js';
import type { RouteConfiguration } from '../gen/envoy/config/route/v3/route_pb.js';
import { Cluster_DiscoveryType, type Cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import type { ConfigSource } from '../gen/envoy/config/core/v3/config_source_pb.js';
import type { TransportSocket } from '../gen/envoy/config/core/v3/base_pb.js';
import { HttpConnectionManagerSchema } from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import {
  DownstreamTlsContextSchema,
  UpstreamTlsContextSchema,
  type CommonTlsContext,
} from '../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import type { SdsSecretConfig } from '../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { TypeUrl, resourceNameOf } from './type-urls.js';

/** One reason a snapshot is not self-consistent, naming the resource at fault. */
export interface ConsistencyIssue {
  readonly typeUrl: TypeUrl;
  readonly name: string;
  readonly reason: string;
}

export interface ConsistencyOptions {
  /**
   * Secret names every stream receives from its own identity (SDS per identity, see
   * `SecretSource`), so listeners and clusters may name them although no group snapshot holds them.
   * Defaults to `['default', 'ROOTCA']`.
   */
  readonly perIdentitySecretNames?: readonly string[];
}

export const DEFAULT_PER_IDENTITY_SECRET_NAMES: readonly string[] = ['default', 'ROOTCA'];

const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const DOWNSTREAM_TLS_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const UPSTREAM_TLS_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

/** References only count when they point back at this control plane (ADS or `self`). */
function servedByUs(source: ConfigSource | undefined): boolean {
  const c = source?.configSourceSpecifier.case;
  return c === 'ads' || c === 'self';
}

/**
 * The control plane's own minimal consistency check, in the spirit of go-control-plane's
 * `Snapshot.Consistent()`: every name a resource references through ADS must be in the snapshot.
 *  - Listener → RouteConfiguration (HCM `rds`), TypedExtensionConfig (HCM filter `config_discovery`
 *    without a default config), Secret (DownstreamTlsContext SDS configs).
 *  - RouteConfiguration → Cluster (route `cluster`, `weighted_clusters`, request mirrors).
 *  - Cluster (type EDS) → ClusterLoadAssignment (`eds_cluster_config.service_name` or the cluster
 *    name), Cluster → Secret (UpstreamTlsContext SDS configs).
 * Pure; returns every issue found (empty when consistent). Undecodable embedded configs are issues.
 */
export function findConsistencyIssues(
  resources: ReadonlyMap<TypeUrl, readonly Message[]>,
  options: ConsistencyOptions = {},
): ConsistencyIssue[] {
  const issues: ConsistencyIssue[] = [];
  const names = (t: TypeUrl): Set<string> => new Set((resources.get(t) ?? []).map(resourceNameOf));
  const routes = names(TypeUrl.RouteConfiguration);
  const clusters = names(TypeUrl.Cluster);
  const endpoints = names(TypeUrl.ClusterLoadAssignment);
  const extensions = names(TypeUrl.TypedExtensionConfig);
  const secrets = names(TypeUrl.Secret);
  for (const n of options.perIdentitySecretNames ?? DEFAULT_PER_IDENTITY_SECRET_NAMES) secrets.add(n);

  const checkSds = (typeUrl: TypeUrl, owner: string, where: string, cfg: SdsSecretConfig | undefined): void => {
    if (cfg === undefined || !servedByUs(cfg.sdsConfig)) return;
    if (!secrets.has(cfg.name)) {
      issues.push({ typeUrl, name: owner, reason: `${where} names secret "${cfg.name}" which is not served` });
    }
  };
  const checkCommonTls = (typeUrl: TypeUrl, owner: string, where: string, ctx: CommonTlsContext | undefined): void => {
    if (ctx === undefined) return;
    ctx.tlsCertificateSdsSecretConfigs.forEach((c, i) =>
      checkSds(typeUrl, owner, `${where}.tls_certificate_sds_secret_configs[${i}]`, c),
    );
    const v = ctx.validationContextType;
    if (v.case === 'validationContextSdsSecretConfig') {
      checkSds(typeUrl, owner, `${where}.validation_context_sds_secret_config`, v.value);
    } else if (v.case === 'combinedValidationContext') {
      checkSds(
        typeUrl,
        owner,
        `${where}.combined_validation_context.validation_context_sds_secret_config`,
        v.value.validationContextSdsSecretConfig,
      );
    }
  };
  const checkTransportSocket = (
    typeUrl: TypeUrl,
    owner: string,
    where: string,
    ts: TransportSocket | undefined,
  ): void => {
    if (ts === undefined || ts.configType.case !== 'typedConfig') return;
    const any = ts.configType.value;
    try {
      if (any.typeUrl === DOWNSTREAM_TLS_TYPE) {
        checkCommonTls(typeUrl, owner, `${where}.common_tls_context`, fromBinary(DownstreamTlsContextSchema, any.value).commonTlsContext);
      } else if (any.typeUrl === UPSTREAM_TLS_TYPE) {
        checkCommonTls(typeUrl, owner, `${where}.common_tls_context`, fromBinary(UpstreamTlsContextSchema, any.value).commonTlsContext);
      }
    } catch (err) {
      issues.push({ typeUrl, name: owner, reason: `${where}: cannot decode ${any.typeUrl}: ${(err as Error).message}` });
    }
  };
  const checkHcm = (owner: string, where: string, any: Any): void => {
    if (any.typeUrl !== HCM_TYPE) return;
    let hcm;
    try {
      hcm = fromBinary(HttpConnectionManagerSchema, any.value);
    } catch (err) {
      issues.push({ typeUrl: TypeUrl.Listener, name: owner, reason: `${where}: cannot decode HttpConnectionManager: ${(err as Error).message}` });
      return;
    }
    const rs = hcm.routeSpecifier;
    if (rs.case === 'rds' && servedByUs(rs.value.configSource) && !routes.has(rs.value.routeConfigName)) {
      issues.push({
        typeUrl: TypeUrl.Listener,
        name: owner,
        reason: `${where}.rds names route configuration "${rs.value.routeConfigName}" which is not in the snapshot`,
      });
    }
    hcm.httpFilters.forEach((f, i) => {
      const ct = f.configType;
      if (ct.case === 'configDiscovery' && ct.value.defaultConfig === undefined && servedByUs(ct.value.configSource)) {
        if (!extensions.has(f.name)) {
          issues.push({
            typeUrl: TypeUrl.Listener,
            name: owner,
            reason: `${where}.http_filters[${i}] ("${f.name}") uses config_discovery but no TypedExtensionConfig "${f.name}" is in the snapshot`,
          });
        }
      }
    });
  };
  const checkChain = (owner: string, where: string, chain: FilterChain | undefined): void => {
    if (chain === undefined) return;
    chain.filters.forEach((f, i) => {
      if (f.configType.case === 'typedConfig') checkHcm(owner, `${where}.filters[${i}]`, f.configType.value);
    });
    checkTransportSocket(TypeUrl.Listener, owner, `${where}.transport_socket`, chain.transportSocket);
  };

  for (const m of resources.get(TypeUrl.Listener) ?? []) {
    const l = m as Listener;
    l.filterChains.forEach((c, i) => checkChain(l.name, `filter_chains[${i}]`, c));
    checkChain(l.name, 'default_filter_chain', l.defaultFilterChain);
    const api = l.apiListener?.apiListener;
    if (api !== undefined) checkHcm(l.name, 'api_listener', api);
  }
  for (const m of resources.get(TypeUrl.RouteConfiguration) ?? []) {
    const rc = m as RouteConfiguration;
    rc.virtualHosts.forEach((vh, v) => {
      vh.routes.forEach((r, i) => {
        if (r.action.case !== 'route') return;
        const ra = r.action.value;
        const where = `virtual_hosts[${v}] ("${vh.name}").routes[${i}]`;
        const need = (cluster: string, field: string): void => {
          if (!clusters.has(cluster)) {
            issues.push({
              typeUrl: TypeUrl.RouteConfiguration,
              name: rc.name,
              reason: `${where}.${field} names cluster "${cluster}" which is not in the snapshot`,
            });
          }
        };
        if (ra.clusterSpecifier.case === 'cluster') need(ra.clusterSpecifier.value, 'route.cluster');
        if (ra.clusterSpecifier.case === 'weightedClusters') {
          ra.clusterSpecifier.value.clusters.forEach((wc, j) => need(wc.name, `route.weighted_clusters.clusters[${j}]`));
        }
        ra.requestMirrorPolicies.forEach((mp, j) => need(mp.cluster, `route.request_mirror_policies[${j}]`));
      });
    });
  }
  for (const m of resources.get(TypeUrl.Cluster) ?? []) {
    const c = m as Cluster;
    if (c.clusterDiscoveryType.case === 'type' && c.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS) {
      const eds = c.edsClusterConfig;
      if (eds === undefined || servedByUs(eds.edsConfig)) {
        const service = eds?.serviceName !== undefined && eds.serviceName !== '' ? eds.serviceName : c.name;
        if (!endpoints.has(service)) {
          issues.push({
            typeUrl: TypeUrl.Cluster,
            name: c.name,
            reason: `EDS cluster needs ClusterLoadAssignment "${service}" which is not in the snapshot`,
          });
        }
      }
    }
    checkTransportSocket(TypeUrl.Cluster, c.name, 'transport_socket', c.transportSocket);
    c.transportSocketMatches.forEach((tm, i) =>
      checkTransportSocket(TypeUrl.Cluster, c.name, `transport_socket_matches[${i}].transport_socket`, tm.transportSocket),
    );
  }
  return issues;
}
