/**
 * The HTTP connection manager and HTTP filter chain shared by gateway and sidecar listeners.
 *
 * Filter order: RBAC → local rate limit → meshward DLP (global, then model-scoped) → router.
 * Why RBAC before the Wasm filter: everything RBAC decides on is known when the request headers
 * arrive (peer identity, method, path, headers, the model header, time via re-translation), while
 * the DLP filter must buffer and scan the body, the expensive part. Running RBAC first means an
 * unauthorized caller costs a header check, never a body scan, and its payload is never buffered.
 * The filter cannot feed RBAC anyway: Envoy picks the route and runs RBAC from the headers, and a
 * filter that reads the body can no longer change the request headers (see ENVOY-FACTS.md), so the
 * model header comes from the client and the filter enforces that the body's `model` agrees with
 * it. The rate limiter comes after RBAC so that unauthorized requests do not drain the buckets of
 * authorized callers, and before DLP so that an over-limit caller is not scanned either.
 *
 * HCM settings: RDS over ADS; XFCC SANITIZE_SET with the peer URI (identity for the upstream and
 * the per-caller rate limit; a client-sent XFCC is always dropped); path normalization with merged
 * slashes and rejection of escaped slashes, so path-based RBAC cannot be bypassed with `//` or
 * `%2F`; gRPC access log to `meshward_als` with the filter's summary and the model headers.
 */
import { anyPack, type Any } from '@bufbuild/protobuf/wkt';
import { create } from '@bufbuild/protobuf';
import { AccessLogSchema, type AccessLog } from '../gen/envoy/config/accesslog/v3/accesslog_pb.js';
import { ApiVersion } from '../gen/envoy/config/core/v3/config_source_pb.js';
import { HttpGrpcAccessLogConfigSchema } from '../gen/envoy/extensions/access_loggers/grpc/v3/als_pb.js';
import { RBACSchema as RbacFilterSchema } from '../gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { RouterSchema } from '../gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import {
  HttpConnectionManagerSchema,
  HttpConnectionManager_ForwardClientCertDetails,
  HttpConnectionManager_PathWithEscapedSlashesAction,
  HttpFilterSchema,
  type HttpFilter,
} from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { MODEL_HEADER, VERSION_HEADER } from '../model/model-service.js';
import {
  ACCESS_LOGGER_HTTP_GRPC,
  ALS_CLUSTER,
  ALS_LOG_NAME,
  FILTER_LOCAL_RATELIMIT,
  FILTER_RBAC,
  FILTER_ROUTER,
  FILTER_STATE_SUMMARY,
} from './names.js';
import { adsConfigSource, packAny } from './proto-helpers.js';
import { listenerLocalRateLimit } from './rate-limit.js';
import { rbacFilterConfig, type TranslatedRbac } from './rbac.js';

export function rbacHttpFilter(rbac: TranslatedRbac, forGrpc = false): HttpFilter {
  return create(HttpFilterSchema, {
    name: FILTER_RBAC,
    configType: { case: 'typedConfig', value: anyPack(RbacFilterSchema, rbacFilterConfig(rbac, forGrpc)) },
  });
}

export function routerHttpFilter(): HttpFilter {
  return create(HttpFilterSchema, { name: FILTER_ROUTER, configType: { case: 'typedConfig', value: packAny(RouterSchema, {}) } });
}

export function localRateLimitHttpFilter(): HttpFilter {
  return create(HttpFilterSchema, { name: FILTER_LOCAL_RATELIMIT, configType: { case: 'typedConfig', value: listenerLocalRateLimit() } });
}

/**
 * The gRPC access log entry. Hook for the closed loop: it carries the filter's summary (filter
 * state), the model headers, and the peer certificate's SANs (always in HTTPAccessLogEntry's TLS
 * properties), which is the caller identity.
 */
export function grpcAccessLog(): AccessLog {
  return create(AccessLogSchema, {
    name: ACCESS_LOGGER_HTTP_GRPC,
    configType: {
      case: 'typedConfig',
      value: packAny(HttpGrpcAccessLogConfigSchema, {
        commonConfig: {
          logName: ALS_LOG_NAME,
          grpcService: { targetSpecifier: { case: 'envoyGrpc', value: { clusterName: ALS_CLUSTER } } },
          transportApiVersion: ApiVersion.V3,
          filterStateObjectsToLog: [FILTER_STATE_SUMMARY],
        },
        additionalRequestHeadersToLog: [MODEL_HEADER, VERSION_HEADER],
      }),
    },
  });
}

export interface HcmInput {
  readonly statPrefix: string;
  readonly routeConfigName: string;
  /** Ordered HTTP filters, router last. */
  readonly httpFilters: readonly HttpFilter[];
  readonly accessLog: boolean;
  /** Edge (gateway): trust the connection's address, not x-forwarded-for. */
  readonly useRemoteAddress: boolean;
}

/** The HCM as a packed Any, ready for a network filter. */
export function httpConnectionManager(input: HcmInput): Any {
  return packAny(HttpConnectionManagerSchema, {
    statPrefix: input.statPrefix,
    routeSpecifier: { case: 'rds', value: { configSource: adsConfigSource(), routeConfigName: input.routeConfigName } },
    httpFilters: [...input.httpFilters],
    forwardClientCertDetails: HttpConnectionManager_ForwardClientCertDetails.SANITIZE_SET,
    setCurrentClientCertDetails: { uri: true },
    normalizePath: true,
    mergeSlashes: true,
    pathWithEscapedSlashesAction: HttpConnectionManager_PathWithEscapedSlashesAction.REJECT_REQUEST,
    useRemoteAddress: input.useRemoteAddress,
    accessLog: input.accessLog ? [grpcAccessLog()] : [],
  });
}
