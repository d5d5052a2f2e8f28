import type { LeaseStatePort } from '../budget/budget-lease-service.js';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Registry } from 'prom-client';
import type { ApiRole, CandidateValidator, Store } from '../store/store.js';
import { StoreError } from '../store/store-error.js';
import type { FleetView } from '../xds/fleet-view.js';
import type { XdsTransportStats } from '../xds/xds-server.js';
import type { ApiContext } from './api-context.js';
import { createApiMetrics } from './api-metrics.js';
import { createFleetMetrics, type PublishReport } from './fleet-metrics.js';
import { verifyApiToken } from './api-token.js';
import { createModelValidator } from './model-bridge.js';
import { createDlpConfigCheck, loadFilterConfigSchema } from './dlp-config-check.js';
import type { CertificateAuthorityPort, ControllerPort, DlpEnginePort } from './ports.js';
import { defaultAccess, roleMayCall, ROLES_FOR_ACCESS, type Access } from './principal.js';
import { ApiError, PROBLEM_CONTENT_TYPE, toProblem } from './problem.js';
import { createValidatorCompiler } from './validators.js';
import { registerRoutes } from './routes/index.js';
import type { ClosedLoopPort } from './routes/closed-loop-port.js';

/** One registered route and who may call it (see `app.meshwardRoutes`). */
export interface RouteAccess {
  readonly method: string;
  readonly url: string;
  readonly access: Access;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route the API registered, with its access level (for tests, docs and audits of the API itself). */
    meshwardRoutes: readonly RouteAccess[];
    /** Hooks for metrics the API exports on behalf of others (see fleet-metrics.ts). */
    meshwardMetrics: { recordPublish(result: PublishReport, seconds: number): void };
  }
}

/** Options of the API plugin (everything but the HTTP server itself). */
export interface ApiOptions {
  readonly store: Store;
  /** Trust domain until a `mesh` resource is stored. Defaults to the CA's, else `meshward.local`. */
  readonly trustDomain?: string;
  /** The certificate authority (certificates, join tokens, CA rotation routes). Those routes answer 503 without it. */
  readonly ca?: CertificateAuthorityPort;
  /** The xDS server's view of connected Envoys (fleet routes). Empty fleet without it. */
  readonly fleet?: FleetView;
  /** The xDS server's transport counts (`XdsServer.transportStats`), for /metrics. */
  readonly xdsTransport?: () => XdsTransportStats | undefined;
  /**
   * The controller (GET /v1/controller, and the fleet's `inSync` against each group's current
   * per-type versions). Without it /v1/controller answers 503 and `inSync` only checks that each
   * stream ACKed what it was last sent.
   */
  readonly controller?: ControllerPort;
  /** The compiled filter (DLP config check + dry run). Without it the dry run answers 503 and configs are only schema-checked. */
  readonly dlp?: DlpEnginePort;
  /**
   * The filter's config JSON Schema used to check DLP policies. Defaults to the repository's
   * filter/config.schema.json when present; `false` disables the schema check.
   */
  readonly dlpConfigSchema?: object | false;
  /** Extra candidate check run after the domain model's validation (e.g. the controller's translation). */
  readonly validateCandidate?: CandidateValidator;
  /** Registries of other modules (xDS, CA) appended to /metrics. */
  readonly metricsRegistries?: readonly Registry[];
  /** Serve /docs and /openapi.json without a token. Defaults to false: every endpoint but /healthz and /readyz needs one. */
  readonly publicDocs?: boolean;
  /** Readiness: /readyz answers 503 with the reason while this returns a string. Defaults to always ready. */
  readonly notReadyReason?: () => string | undefined;
  readonly now?: () => Date;
  /** Where budget leases survive restarts (e.g. createFileLeaseState in the data directory). Absent: in memory. */
  readonly budgetLeaseState?: LeaseStatePort;
  /** The closed loop (alert rules, alerts, signals, reports, rollout guards). Those routes answer 503 without it. */
  readonly closedLoop?: ClosedLoopPort;
}

/** HTTPS for the API. With `clientCa`, clients must present a certificate issued by it (mTLS). */
export interface ApiTlsOptions {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  /** PEM bundle of CAs whose client certificates are accepted (e.g. the mesh trust bundle). */
  readonly clientCa?: string | Buffer;
}

export interface AppOptions extends ApiOptions {
  /** fastify logger option. Defaults to false (the caller decides). */
  readonly logger?: FastifyServerOptions['logger'];
  /** Largest accepted request body in bytes; larger ones get 413. Defaults to 1 MiB. */
  readonly bodyLimit?: number;
  readonly tls?: ApiTlsOptions;
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * The REST API as a fastify plugin. It configures the instance it is registered on (validation,
 * errors, auth, docs), so it is registered without encapsulation, at the root.
 * Contract: every route requires a bearer token except those whose `config.access` is `public`
 * (/healthz, /readyz); GET/HEAD need `viewer`, everything else `admin` unless the route says
 * otherwise. Roles (see `Access` in principal.ts): `admin` calls everything; `viewer` the `viewer`
 * routes; `proxy` only the `proxy` routes (POST /v1/budget-leases), which viewers cannot call. A
 * valid token without the role gets 403 naming the token, its role and the roles that may call.
 */
export const meshwardApi: FastifyPluginAsync<ApiOptions> = async (app, options) => {
  const store = options.store;
  const now = options.now ?? (() => new Date());
  const trustDomain = options.trustDomain ?? options.ca?.trustDomain ?? 'meshward.local';
  const metrics = createApiMetrics(store);
  const modelValidator = createModelValidator({ defaultTrustDomain: trustDomain, current: () => store.snapshot() });
  const extra = options.validateCandidate;
  const dlpSchema = options.dlpConfigSchema === false ? undefined : (options.dlpConfigSchema ?? loadFilterConfigSchema());
  const ctx: ApiContext = {
    store,
    now,
    trustDomain,
    validate: extra === undefined ? modelValidator : (c, ch) => (modelValidator(c, ch), runExtraValidator(extra, c, ch)),
    metrics,
    ca: options.ca,
    fleet: options.fleet,
    controller: options.controller,
    dlp: options.dlp,
    dlpConfigCheck: dlpSchema === undefined ? undefined : createDlpConfigCheck(dlpSchema),
    budgetLeaseState: options.budgetLeaseState,
    ...(options.closedLoop === undefined ? {} : { closedLoop: options.closedLoop }),
  };

  // xDS metrics from the fleet view (connected nodes, ACK/NACK, commit→ACK latency); pushes are
  // reported by whoever runs the publisher through `app.meshwardMetrics.recordPublish`.
  const fleetMetrics = options.fleet === undefined ? undefined : createFleetMetrics({ registry: metrics.registry, fleet: options.fleet, store, ...(options.xdsTransport === undefined ? {} : { transport: options.xdsTransport }) });
  app.decorate('meshwardMetrics', {
    recordPublish: (result: PublishReport, seconds: number) => fleetMetrics?.recordPublish(result, seconds),
  });
  app.addHook('onClose', async () => fleetMetrics?.close());

  app.setValidatorCompiler(createValidatorCompiler());
  // Only JSON bodies: text/plain would otherwise reach handlers as a string.
  app.removeContentTypeParser(['text/plain']);
  app.decorateRequest('principal', undefined);

  const routeTable: RouteAccess[] = [];
  app.decorate('meshwardRoutes', routeTable);
  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { access?: Access };
    let access = config.access ?? defaultAccess(route.method);
    if (options.publicDocs === true && (route.url.startsWith('/docs') || route.url === '/openapi.json')) access = 'public';
    (route as { config: unknown }).config = { ...config, access };
    for (const method of typeof route.method === 'string' ? [route.method] : route.method) {
      if (method !== 'HEAD') routeTable.push({ method, url: route.url, access });
    }
    if (route.schema !== undefined && access !== 'public') {
      (route.schema as Record<string, unknown>)['security'] = [{ bearerAuth: [] }];
    }
  });

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config?.access ?? defaultAccess(request.method);
    if (access === 'public') return;
    const header = request.headers.authorization;
    if (header === undefined || header === '') {
      metrics.authFailures.inc({ reason: 'missing' });
      throw new ApiError('UNAUTHENTICATED', 'this endpoint needs an API token: send Authorization: Bearer <token>', {
        headers: { 'www-authenticate': 'Bearer realm="meshward"' },
      });
    }
    const m = /^Bearer +(\S+) *$/i.exec(header);
    const check = m === null ? ({ ok: false, reason: 'malformed' } as const) : verifyApiToken(store, m[1]!, now());
    if (!check.ok) {
      metrics.authFailures.inc({ reason: check.reason });
      const why =
        check.reason === 'malformed'
          ? 'the Authorization header is not "Bearer mw_<id>_<secret>"'
          : check.reason === 'expired'
            ? 'the token has expired'
            : check.reason === 'revoked'
              ? 'the token was revoked'
              : 'the token is not valid';
      throw new ApiError('UNAUTHENTICATED', why, {
        headers: { 'www-authenticate': `Bearer realm="meshward", error="invalid_token", error_description="${why.replaceAll('"', "'")}"` },
      });
    }
    request.principal = {
      tokenId: check.token.id,
      name: check.token.name,
      role: check.token.role,
      clientIdentity: clientIdentityOf(request.raw.socket as TLSSocket),
    };
    if (!roleMayCall(check.token.role, access)) {
      metrics.authFailures.inc({ reason: 'forbidden' });
      throw new ApiError('FORBIDDEN', forbiddenDetail(check.token.name, check.token.role, access));
    }
  });

  // A POST/PUT without a body (no content-type) reaches validation as an empty object, so an
  // optional body works and a required one gets a 400 naming the missing fields.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.routeOptions.schema?.body !== undefined) request.body = {};
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler(async (err, request, reply) => {
    const { problem, headers } = toProblem(err, request.url);
    if (problem.status >= 500) request.log.error({ err }, 'request failed');
    for (const [k, v] of Object.entries(headers)) void reply.header(k, v);
    return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  });
  app.setNotFoundHandler(async (request) => {
    throw new ApiError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`);
  });

  // Registered after the hooks and handlers above so its encapsulated routes inherit them.
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'meshward control plane API',
        version: '1',
        description:
          'Declarative configuration of the meshward mesh (workloads, models, policies), certificates, fleet status and audit trail. ' +
          'Errors are application/problem+json (RFC 9457). Writes need an admin token; reads a viewer token; ' +
          'proxy tokens (for Envoys) may only call POST /v1/budget-leases. ' +
          'PUT requires If-Match with the ETag you read (428 without, 412 when it changed).',
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'mw_<id>_<secret> API token' } },
      },
      security: [{ bearerAuth: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerRoutes(app, ctx, { metricsRegistries: options.metricsRegistries ?? [], notReadyReason: options.notReadyReason });
};
// Registered at the root, not encapsulated (what fastify-plugin does): its hooks, error handler
// and validator apply to the whole instance.
(meshwardApi as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

/**
 * Builds a fastify instance serving the API (not listening yet: call `listen({ host, port })`, or
 * use `inject()` in tests). The caller owns the instance and closes it; the store stays open.
 */
export async function createApp(options: AppOptions): Promise<FastifyInstance> {
  const https =
    options.tls === undefined
      ? undefined
      : {
          key: options.tls.key,
          cert: options.tls.cert,
          ...(options.tls.clientCa === undefined
            ? {}
            : { ca: options.tls.clientCa, requestCert: true, rejectUnauthorized: true }),
          minVersion: 'TLSv1.2' as const,
        };
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    ...(https === undefined ? {} : { https }),
    // Make clients with keep-alive see the server go away promptly on close().
    forceCloseConnections: true,
    ajv: { customOptions: { removeAdditional: false } },
  }) as unknown as FastifyInstance;
  await app.register(meshwardApi, options);
  return app;
}

/**
 * Runs the caller's candidate check (e.g. translation into Envoy resources). A typed refusal — an
 * error with a string `code`, like XdsError or ModelValidationError — becomes a 400 naming the
 * reason; anything else is a bug and stays a 500.
 */
function runExtraValidator(extra: CandidateValidator, candidate: Parameters<CandidateValidator>[0], changed: Parameters<CandidateValidator>[1]): void {
  try {
    extra(candidate, changed);
  } catch (err) {
    if (err instanceof StoreError) throw err;
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && err instanceof Error) {
      throw new StoreError('INVALID', `the proxies' configuration cannot be built from this change: ${err.message}`, {
        issues: [{ field: '', reason: err.message }],
        cause: err,
      });
    }
    throw err;
  }
}

/**
 * Swaps the API's TLS material without a restart (new connections use it; open ones keep theirs).
 * Wire it to the mesh CA's serving certificate: `serving.onChange((m) => updateApiTls(app, {...}))`.
 */
export function updateApiTls(app: FastifyInstance, tls: ApiTlsOptions): void {
  const server = app.server as unknown as { setSecureContext?: (options: object) => void };
  if (typeof server.setSecureContext !== 'function') throw new Error('the API is not served over TLS');
  server.setSecureContext({ key: tls.key, cert: tls.cert, ...(tls.clientCa === undefined ? {} : { ca: tls.clientCa }) });
}

/** The 403 detail: which token, its role, and which roles the route needs. */
function forbiddenDetail(name: string, role: ApiRole, access: Exclude<Access, 'public'>): string {
  const needed = `a token with role ${ROLES_FOR_ACCESS[access].join(' or ')}`;
  const why = role === 'proxy' ? ' (proxy tokens may only call the endpoints proxies use, such as POST /v1/budget-leases)' : '';
  return `token "${name}" has role ${role}; this operation needs ${needed}${why}`;
}

function clientIdentityOf(socket: TLSSocket): string | undefined {
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate();
  const san = cert?.subjectaltname;
  if (typeof san !== 'string') return undefined;
  const uri = san
    .split(', ')
    .find((s) => s.startsWith('URI:spiffe://'))
    ?.slice('URI:'.length);
  return uri;
}
