/**
 * Every name translate/ puts on the wire, in one place: SDS secret names, static cluster names the
 * bootstraps define, filter names, stat prefixes, and how listener/route/cluster/ECDS resource names
 * are derived from the domain model. These are public contracts (the CA serves the secret names,
 * envoy/*.yaml defines the static clusters, dashboards use the stat prefixes).
 */

/** SDS secret holding the workload's own certificate chain and key (served per authenticated stream). */
export const SECRET_WORKLOAD_CERT = 'default';
/** SDS secret holding the trust bundle (validation context with the mesh CA roots). */
export const SECRET_TRUST_BUNDLE = 'ROOTCA';

/** Static cluster (in every bootstrap) for the control plane's gRPC access log service. */
export const ALS_CLUSTER = 'meshward_als';
/** Static cluster (in every bootstrap) for ADS. */
export const XDS_CLUSTER = 'xds_cluster';
/** ALS log name, so the collector can tell meshward's HTTP logs from others. */
export const ALS_LOG_NAME = 'meshward';
/**
 * Filter state the meshward filter writes per request (a JSON summary of findings and verdict).
 * proxy-wasm `set_property("meshward.summary")` stores it under Envoy's `wasm.` prefix, so the
 * access log asks for `wasm.meshward.summary`.
 */
export const FILTER_STATE_SUMMARY = 'wasm.meshward.summary';

/** HTTP filter names (also the keys of typed_per_filter_config). */
export const FILTER_RBAC = 'envoy.filters.http.rbac';
export const FILTER_LOCAL_RATELIMIT = 'envoy.filters.http.local_ratelimit';
export const FILTER_ROUTER = 'envoy.filters.http.router';
export const NETWORK_FILTER_HCM = 'envoy.filters.network.http_connection_manager';
export const LISTENER_FILTER_TLS_INSPECTOR = 'envoy.filters.listener.tls_inspector';
export const TRANSPORT_SOCKET_TLS = 'envoy.transport_sockets.tls';
export const ACCESS_LOGGER_HTTP_GRPC = 'envoy.access_loggers.http_grpc';
/** Listener-level (connection) gRPC access logger; see `listenerAccessLog` in listeners.ts. */
export const ACCESS_LOGGER_TCP_GRPC = 'envoy.access_loggers.tcp_grpc';
export const UPSTREAM_HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** Wasm: root id the meshward module registers, and the runtime. */
export const WASM_ROOT_ID = 'meshward';
export const WASM_RUNTIME_V8 = 'envoy.wasm.runtime.v8';
/** The ECDS resource (and HTTP filter) name of the global DLP policy. */
export const ECDS_DLP_GLOBAL = 'meshward.dlp';
/** The ECDS resource (and HTTP filter) name of a model-scoped DLP policy. */
export function ecdsDlpModelName(model: string): string {
  return `meshward.dlp.${model}`;
}

/** Stat prefixes. Envoy appends its own stat names (e.g. `rbac.allowed`, `shadow_denied`). */
export const STAT_PREFIX_GATEWAY = 'meshward_gateway';
export const STAT_PREFIX_INBOUND = 'meshward_inbound';
/** RBAC enforced rules: `http.<hcm>.meshward_authz_rbac.allowed|denied`. */
export const STAT_PREFIX_RBAC = 'meshward_authz_';
/** RBAC dry-run (shadow) rules: `http.<hcm>.meshward_authz_dryrun_rbac.shadow_allowed|shadow_denied`. */
export const STAT_PREFIX_RBAC_DRY_RUN = 'meshward_authz_dryrun_';
/** Local rate limit of a RateLimit resource: `meshward_ratelimit_<name>.http_local_rate_limit.*`. */
export function ratelimitStatPrefix(rateLimitName: string): string {
  return `meshward_ratelimit_${rateLimitName}`;
}
/** Stat prefix of the listener-level local rate limit filter (no bucket of its own). */
export const STAT_PREFIX_RATELIMIT = 'meshward_ratelimit';
/** Descriptor key of per-caller rate limit descriptors. */
export const RATELIMIT_CALLER_KEY = 'meshward_caller';
/** Response header on a 429 from the local rate limiter. */
export const RATELIMITED_HEADER = 'x-meshward-ratelimited';

/** Cluster of one model version: `model|<model>|<version>`. */
export function modelClusterName(model: string, version: string): string {
  return `model|${model}|${version}`;
}
/** Sidecar's local model server cluster: `inbound|<appPort>|app`. */
export function localAppClusterName(appPort: number): string {
  return `inbound|${appPort}|app`;
}
/** Cluster through which Envoy fetches a remote Wasm module: `wasm|<module>`. */
export function wasmFetchClusterName(module: string): string {
  return `wasm|${module}`;
}
/** Gateway listener and its route configuration: `gateway|<port>`. */
export function gatewayListenerName(port: number): string {
  return `gateway|${port}`;
}
/** Sidecar inbound listener and its route configuration: `inbound|<port>`. */
export function sidecarListenerName(port: number): string {
  return `inbound|${port}`;
}
/**
 * Proxyless client: gRPC subscribes to the Listener named after the `xds:///<target>` host, i.e. the
 * model name; its route configuration is `proxyless|<model>`.
 */
export function proxylessRouteName(model: string): string {
  return `proxyless|${model}`;
}
/**
 * The Listener name an xDS-enabled grpc-js server subscribes to, per gRPC's default
 * `server_listener_resource_name_template` with `%s` replaced by the bound `ip:port`.
 */
export const GRPC_SERVER_LISTENER_TEMPLATE = 'grpc/server?xds.resource.listening_address=%s';
export function grpcServerListenerName(address: string, port: number): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return GRPC_SERVER_LISTENER_TEMPLATE.replace('%s', `${host}:${port}`);
}
/** Route configuration of a proxyless gRPC server listener. */
export function grpcServerRouteName(address: string, port: number): string {
  return `proxyless-server|${address}:${port}`;
}
