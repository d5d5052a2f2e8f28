/**
 * Models → RouteConfigurations.
 *
 * Gateway (one virtual host `models`, domains `*`), routes in this order (first match wins):
 *  1. version pins: a model's matches + `x-meshward-model-version: <version>` → that version's cluster;
 *  2. model-header routes: path prefix + `x-meshward-model: <model name>` → weighted version split;
 *  3. dedicated path prefixes (no header) → weighted split;
 *  4. `GET /v1/models` without a model header → the gateway's own model list (direct response);
 *  5. catch-all `/` → direct 404 with an OpenAI-style error body, DLP disabled (nothing to scan).
 * Within a class, longer prefixes come first. Each model route carries the model's timeout, retry
 * policy, local rate limit (typed_per_filter_config + rate_limits) and enables the model-scoped DLP
 * filter. Versions with weight 0 are left out of the split but keep their clusters (pins still work).
 *
 * Sidecar: one route `/` → the local model server cluster, with the served model's timeout, retries,
 * rate limit and DLP scope. Proxyless client: per model, pins then `/` → split (domains `*`, since
 * the listener already names the model). Proxyless server: `/` → non_forwarding_action.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { HeaderValueOption_HeaderAppendAction } from '../gen/envoy/config/core/v3/base_pb.js';
import {
  RouteConfigurationSchema,
  type RouteConfiguration,
} from '../gen/envoy/config/route/v3/route_pb.js';
import type { RouteSchema, RouteActionSchema, RouteMatchSchema } from '../gen/envoy/config/route/v3/route_components_pb.js';
import type { DlpPolicy } from '../model/dlp-policy.js';
import type { MeshModel } from '../model/mesh-model.js';
import {
  DEFAULT_MODEL_TIMEOUT_MS,
  DEFAULT_RETRY_POLICY,
  MODEL_HEADER,
  VERSION_HEADER,
  modelNamesOf,
  versionWeight,
  type ModelService,
} from '../model/model-service.js';
import type { RateLimit } from '../model/rate-limit.js';
import { ECDS_DLP_GLOBAL, FILTER_LOCAL_RATELIMIT, ecdsDlpModelName, grpcServerRouteName, localAppClusterName, modelClusterName, proxylessRouteName } from './names.js';
import { ms } from './proto-helpers.js';
import { routeRateLimit } from './rate-limit.js';
import { disableFilterOnRoute, enableFilterOnRoute } from './wasm.js';

type RouteInit = MessageInitShape<typeof RouteSchema>;
type RouteActionInit = MessageInitShape<typeof RouteActionSchema>;
type RouteMatchInit = MessageInitShape<typeof RouteMatchSchema>;

/** Body of the gateway's 404 for requests that name no known model. */
export const NO_MODEL_BODY = JSON.stringify({
  error: {
    message: `no model matches this request: set the ${MODEL_HEADER} header to a model name, or use a model's dedicated path`,
    type: 'invalid_request_error',
    code: 'model_not_found',
  },
});

/**
 * OpenAI-style `GET /v1/models` answered by the gateway itself: the model names it exposes, sorted.
 * The DLP filter sees this response like any other, so it can narrow the list per caller.
 */
export function modelListBody(services: readonly ModelService[]): string {
  const ids = [...new Set(services.flatMap((s) => modelNamesOf(s)))].sort();
  return JSON.stringify({ object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 0, owned_by: 'meshward' })) });
}

function exactHeader(name: string, value: string) {
  return { name, headerMatchSpecifier: { case: 'stringMatch' as const, value: { matchPattern: { case: 'exact' as const, value } } } };
}

/** Where a model's traffic goes: all versions by weight, or one pinned version. */
type Target = { readonly kind: 'split' } | { readonly kind: 'version'; readonly version: string } | { readonly kind: 'cluster'; readonly cluster: string };

/** Route action for a model (timeouts, retries, cluster or weighted clusters). */
export function modelRouteAction(svc: ModelService, target: Target, rateLimits: RouteActionInit['rateLimits'] = []): RouteActionInit {
  let clusterSpecifier: RouteActionInit['clusterSpecifier'];
  if (target.kind === 'cluster') clusterSpecifier = { case: 'cluster', value: target.cluster };
  else if (target.kind === 'version') clusterSpecifier = { case: 'cluster', value: modelClusterName(svc.name, target.version) };
  else {
    const weighted = svc.versions.filter((v) => versionWeight(svc, v) > 0);
    clusterSpecifier =
      svc.versions.length === 1
        ? { case: 'cluster', value: modelClusterName(svc.name, svc.versions[0]!.name) }
        : {
            case: 'weightedClusters',
            value: { clusters: weighted.map((v) => ({ name: modelClusterName(svc.name, v.name), weight: versionWeight(svc, v) })) },
          };
  }
  const r = svc.retries;
  const attempts = r?.attempts ?? DEFAULT_RETRY_POLICY.attempts;
  return {
    clusterSpecifier,
    timeout: ms(svc.timeoutMs ?? DEFAULT_MODEL_TIMEOUT_MS),
    ...(svc.idleTimeoutMs !== undefined ? { idleTimeout: ms(svc.idleTimeoutMs) } : {}),
    ...(attempts > 0
      ? {
          retryPolicy: {
            retryOn: (r?.retryOn ?? DEFAULT_RETRY_POLICY.retryOn).join(','),
            numRetries: attempts,
            ...(r?.perTryTimeoutMs !== undefined ? { perTryTimeout: ms(r.perTryTimeoutMs) } : {}),
            ...(r?.retriableStatusCodes ? { retriableStatusCodes: [...r.retriableStatusCodes] } : {}),
          },
        }
      : {}),
    ...(rateLimits && rateLimits.length > 0 ? { rateLimits } : {}),
  };
}

/** Per-route filter configs of a model route: rate limit and model-scoped DLP enablement. */
function modelFilterConfigs(svc: ModelService, rl: RateLimit | undefined, dlp: readonly DlpPolicy[]): Record<string, Any> {
  const out: Record<string, Any> = {};
  if (rl) out[FILTER_LOCAL_RATELIMIT] = routeRateLimit(rl).perFilterConfig;
  if (dlp.some((p) => p.scope.kind === 'model' && p.scope.model === svc.name)) out[ecdsDlpModelName(svc.name)] = enableFilterOnRoute();
  return out;
}

interface ModelMatch {
  readonly prefix: string;
  readonly modelName?: string;
}

function matchesOf(svc: ModelService): { header: ModelMatch[]; dedicated: ModelMatch[] } {
  const header = (svc.pathPrefixes ?? ['/']).flatMap((prefix) => modelNamesOf(svc).map((modelName) => ({ prefix, modelName })));
  const dedicated = (svc.dedicatedPathPrefixes ?? []).map((prefix) => ({ prefix }));
  return { header, dedicated };
}

function routeMatch(m: ModelMatch, version?: string): RouteMatchInit {
  const headers = [];
  if (m.modelName !== undefined) headers.push(exactHeader(MODEL_HEADER, m.modelName));
  if (version !== undefined) headers.push(exactHeader(VERSION_HEADER, version));
  return { pathSpecifier: { case: 'prefix', value: m.prefix }, headers };
}

const byPrefixLength = (a: { p: number }, b: { p: number }): number => b.p - a.p;

export interface GatewayRouteInput {
  readonly model: MeshModel;
  /** The models this gateway exposes. */
  readonly services: readonly ModelService[];
}

/** The gateway's RouteConfiguration named `name`. */
export function gatewayRouteConfiguration(name: string, input: GatewayRouteInput): RouteConfiguration {
  const { model, services } = input;
  const pinned: { p: number; r: RouteInit }[] = [];
  const headerRoutes: { p: number; r: RouteInit }[] = [];
  const dedicated: { p: number; r: RouteInit }[] = [];
  for (const svc of services) {
    const rl = model.rateLimits.find((x) => x.model === svc.name);
    const rlRoute = rl ? routeRateLimit(rl).rateLimits : [];
    const filters = modelFilterConfigs(svc, rl, model.dlpPolicies);
    const { header, dedicated: ded } = matchesOf(svc);
    const all = [...header, ...ded];
    for (const v of svc.versions) {
      all.forEach((m, i) =>
        pinned.push({
          p: m.prefix.length,
          r: {
            name: `${svc.name}|pin|${v.name}|${i}`,
            match: routeMatch(m, v.name),
            action: { case: 'route', value: modelRouteAction(svc, { kind: 'version', version: v.name }, rlRoute) },
            typedPerFilterConfig: filters,
          },
        }),
      );
    }
    const split = (m: ModelMatch, i: number, kind: string) => ({
      p: m.prefix.length,
      r: {
        name: `${svc.name}|${kind}|${i}`,
        match: routeMatch(m),
        action: { case: 'route' as const, value: modelRouteAction(svc, { kind: 'split' }, rlRoute) },
        typedPerFilterConfig: filters,
      },
    });
    header.forEach((m, i) => headerRoutes.push(split(m, i, 'model')));
    ded.forEach((m, i) => dedicated.push(split(m, i, 'path')));
  }
  const catchAllFilters: Record<string, Any> = {};
  if (model.dlpPolicies.some((p) => p.scope.kind === 'global')) catchAllFilters[ECDS_DLP_GLOBAL] = disableFilterOnRoute();
  const routes: RouteInit[] = [
    ...pinned.sort(byPrefixLength).map((x) => x.r),
    ...headerRoutes.sort(byPrefixLength).map((x) => x.r),
    ...dedicated.sort(byPrefixLength).map((x) => x.r),
    {
      name: 'model_list',
      match: { pathSpecifier: { case: 'path', value: '/v1/models' }, headers: [exactHeader(':method', 'GET')] },
      action: {
        case: 'directResponse',
        value: { status: 200, body: { specifier: { case: 'inlineString', value: modelListBody(services) } } },
      },
      // Envoy labels direct-response bodies text/plain; replace, do not append.
      responseHeadersToAdd: [{ header: { key: 'content-type', value: 'application/json' }, appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD }],
    },
    {
      name: 'no_model',
      match: { pathSpecifier: { case: 'prefix', value: '/' } },
      action: { case: 'directResponse', value: { status: 404, body: { specifier: { case: 'inlineString', value: NO_MODEL_BODY } } } },
      responseHeadersToAdd: [{ header: { key: 'content-type', value: 'application/json' }, appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD }],
      typedPerFilterConfig: catchAllFilters,
    },
  ];
  return create(RouteConfigurationSchema, {
    name,
    validateClusters: false,
    virtualHosts: [{ name: 'models', domains: ['*'], routes }],
  });
}

/** A sidecar's RouteConfiguration: everything to the local model server. */
export function sidecarRouteConfiguration(name: string, model: MeshModel, svc: ModelService, appPort: number): RouteConfiguration {
  const rl = model.rateLimits.find((x) => x.model === svc.name);
  return create(RouteConfigurationSchema, {
    name,
    validateClusters: false,
    virtualHosts: [
      {
        name: 'inbound',
        domains: ['*'],
        routes: [
          {
            name: `${svc.name}|local`,
            match: { pathSpecifier: { case: 'prefix', value: '/' } },
            action: {
              case: 'route',
              value: modelRouteAction(svc, { kind: 'cluster', cluster: localAppClusterName(appPort) }, rl ? routeRateLimit(rl).rateLimits : []),
            },
            typedPerFilterConfig: modelFilterConfigs(svc, rl, model.dlpPolicies),
          },
        ],
      },
    ],
  });
}

/** A proxyless gRPC client's RouteConfiguration for one model (`proxyless|<model>`). */
export function proxylessRouteConfiguration(svc: ModelService): RouteConfiguration {
  const routes: RouteInit[] = svc.versions.map((v) => ({
    name: `${svc.name}|pin|${v.name}`,
    match: { pathSpecifier: { case: 'prefix', value: '/' }, headers: [exactHeader(VERSION_HEADER, v.name)] },
    action: { case: 'route', value: modelRouteAction(svc, { kind: 'version', version: v.name }) },
  }));
  routes.push({
    name: `${svc.name}|split`,
    match: { pathSpecifier: { case: 'prefix', value: '/' } },
    action: { case: 'route', value: modelRouteAction(svc, { kind: 'split' }) },
  });
  return create(RouteConfigurationSchema, {
    name: proxylessRouteName(svc.name),
    virtualHosts: [{ name: svc.name, domains: ['*'], routes }],
  });
}

/** The RouteConfiguration of an xDS-enabled grpc-js server: accept every RPC (non_forwarding_action). */
export function grpcServerRouteConfiguration(address: string, port: number): RouteConfiguration {
  return create(RouteConfigurationSchema, {
    name: grpcServerRouteName(address, port),
    virtualHosts: [
      {
        name: 'inbound',
        domains: ['*'],
        routes: [{ name: 'inbound|all', match: { pathSpecifier: { case: 'prefix', value: '/' } }, action: { case: 'nonForwardingAction', value: {} } }],
      },
    ],
  });
}
