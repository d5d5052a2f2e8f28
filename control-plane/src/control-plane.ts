/**
 * The composition root: builds the whole control plane from {@link Settings} — SQLite store and
 * CA in the data directory, the controller, the ADS server and the REST API — and owns their
 * lifecycle. `main.ts` and the end-to-end tests use it the same way.
 *
 * Lifecycle:
 * - `start()`: creates the data directory (0700), opens the store, loads or creates the CA,
 *   creates the bootstrap admin token on first start (0600 file) and the proxies' budget-lease
 *   token (`proxy-token`, 0600; see bootstrapProxyToken), writes the trust bundle
 *   (`ca-bundle.pem`, kept current), then starts the closed loop (telemetry, signals, alerts to the configured sinks, guarded rollouts,
 *   time-window audit, reports; docs/closed-loop.md) with Envoy's access log service on the xDS
 *   port, then binds xDS and the REST API (each with a mesh-CA serving certificate when its `tls`
 *   setting asks for one, renewed in place), and only then publishes the snapshots of the current
 *   store revision (so the budget lease endpoint, which names the bound API port, is in them from
 *   the first push; streams that connect earlier get theirs then). If anything fails, whatever was started is stopped again and
 *   the error names the setting or component at fault. Call once.
 * - The DLP dry run and the filter-level check of DLP configs need the compiled filter and a
 *   proxy-wasm host ({@link findDlpRuntime}); without them the control plane still starts, logs
 *   why, and the dry run answers 503.
 * - `stop()`: stops the REST API (no new changes), the closed loop (ends the ALS streams, writes
 *   the pending call rollups, gives the alert sinks a bounded time to deliver), the controller (no
 *   new pushes), ends every ADS stream and closes the xDS server, stops the CA's timers, then closes the store (every commit is
 *   already durable: the store syncs before acknowledging). Idempotent; safe after a failed start.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { pino, type Logger } from 'pino';
import { createApp, updateApiTls } from './api/app.js';
import { createFileLeaseState } from './budget/budget-lease-service.js';
import { findRepoFile } from './api/dlp-config-check.js';
import { createDlpEngine, type DryRunHostFactory } from './api/dlp-engine.js';
import type { DlpEnginePort } from './api/ports.js';
import { loadProxyWasmHost } from './cli/proxy-wasm-host.js';
import { bootstrapAdminToken, bootstrapProxyToken, type BootstrapResult } from './api/bootstrap.js';
import { budgetLeaseEndpointOf } from './budget/budget-lease-endpoint.js';
import type { BudgetLeaseEndpoint } from './translate/budget-config.js';
import { createSystemClock, type Clock } from './ca/clock.js';
import { createFileCaStore } from './ca/file-ca-store.js';
import { createMeshCa, type MeshCa, type ServingCertificate } from './ca/mesh-ca.js';
import { createSecretsProvider } from './ca/secrets-provider.js';
import { createStreamAuthenticator } from './ca/stream-authenticator.js';
import type { Settings } from './config/settings.js';
import { ClosedLoopError } from './alerts/alert-error.js';
import type { AlertSink } from './alerts/alert-sink.js';
import { createSinksFromConfig } from './alerts/sink-config.js';
import { createAlsAuthenticator } from './telemetry/als-authenticator.js';
import { createClosedLoop, type ClosedLoop, type ClosedLoopOptions } from './telemetry/closed-loop.js';
import { createController, type Controller } from './controller/controller.js';
import { groupKeyOf } from './controller/node-group-key.js';
import { createTypeVersionFile } from './controller/type-versions.js';
import { createControllerMetrics } from './controller/controller-metrics.js';
import { createIdentityReaper, type IdentityReaper } from './controller/identity-reaper.js';
import { createSqliteIssuedCertificateStore, createSqliteJoinTokenStore } from './store/sqlite-ca-stores.js';
import { createSqliteStore, type SqliteStore } from './store/sqlite-store.js';
import { createSnapshotCache } from './xds/snapshot-cache.js';
import { createXdsServer, type XdsServer } from './xds/xds-server.js';
import { createXdsServerCredentials } from './xds/server-credentials.js';

/** File names inside the data directory. */
export const DATA_FILES = {
  database: 'meshward.db',
  caDir: 'ca',
  typeVersions: 'xds-versions.json',
  caBundle: 'ca-bundle.pem',
  budgetLeases: 'budget-leases.json',
} as const;

export interface ControlPlaneAddresses {
  /** `host:port` of the ADS server. */
  readonly xds: string;
  readonly xdsPort: number;
  readonly xdsTls: boolean;
  /** Base URL of the REST API, e.g. `http://127.0.0.1:8080` (`https://` unless `api.tls` is off). */
  readonly api: string;
  readonly apiPort: number;
  readonly apiTls: Settings['api']['tls'];
  /** PEM file with the mesh CA's roots (trust it to reach the TLS endpoints), kept current. */
  readonly caBundle: string;
  /** Base URL proxies call for budget leases (`budgets.leaseEndpoint`); undefined = none. */
  readonly budgetLeases: string | undefined;
}

export interface ControlPlane {
  start(): Promise<ControlPlaneAddresses>;
  stop(): Promise<void>;
  /** Set once `start()` resolved. */
  readonly addresses: ControlPlaneAddresses | undefined;
  /** Where the bootstrap admin token is (and whether this start created it). Set once started. */
  readonly adminToken: BootstrapResult | undefined;
  /** The running parts, for tests and tools. Throw before `start()`. */
  readonly store: SqliteStore;
  readonly ca: MeshCa;
  readonly controller: Controller;
  readonly xds: XdsServer;
  readonly api: FastifyInstance;
  /** Telemetry, signals, alerts, guarded rollouts and reports (docs/closed-loop.md). */
  readonly closedLoop: ClosedLoop;
}

/** The compiled filter and a proxy-wasm host to run it (the API's DLP dry run and config check). */
export interface DlpRuntime {
  /** Path (or bytes) of the compiled filter, e.g. filter/build/meshward.wasm. */
  readonly wasm: string | Uint8Array;
  readonly createHost: DryRunHostFactory;
}

export interface ControlPlaneOptions {
  /** Defaults to a pino logger at `settings.log.level` writing JSON to stderr. */
  readonly logger?: Logger;
  /** Time for the CA (expiry, renewals, rotations) and the controller (time windows). Defaults to the system clock. */
  readonly clock?: Clock;
  /**
   * How to get the filter runtime. Defaults to {@link findDlpRuntime} (the repository's
   * filter/build/meshward.wasm and the proxy-wasm host the CLI finds). When it fails, the control
   * plane still starts: the DLP dry run answers 503 and DLP configs are only schema-checked.
   */
  readonly dlpRuntime?: () => Promise<DlpRuntime>;
  /** Where the webhook sink's HMAC key (`alerts.webhook.secretEnv`) is read. Defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Closed-loop tuning (tests, benchmarks): signal buckets and windows, sink retry timing, rollup
   * flushes, and sinks in addition to the configured ones. Defaults: docs/closed-loop.md.
   */
  readonly closedLoop?: Pick<ClosedLoopOptions, 'signals' | 'dispatcher' | 'rollupFlushMs' | 'alsQueueCapacity'> & { readonly extraSinks?: readonly AlertSink[] };
}

/**
 * The alert sinks the settings ask for. @throws ControlPlaneError naming the setting at fault
 * (e.g. `alerts.syslog.caFile` when the file cannot be read).
 */
export function sinksFromSettings(alerts: Settings['alerts'], env: Readonly<Record<string, string | undefined>>): AlertSink[] {
  const list: Array<{ setting: string; config: Record<string, unknown> }> = [];
  if (alerts.file !== undefined) list.push({ setting: 'alerts.file', config: { type: 'jsonl', name: 'file', path: alerts.file } });
  if (alerts.webhook !== undefined) list.push({ setting: 'alerts.webhook', config: { type: 'webhook', name: 'webhook', url: alerts.webhook.url, secretEnv: alerts.webhook.secretEnv } });
  if (alerts.syslog !== undefined) {
    const { host, port, transport, format, caFile } = alerts.syslog;
    list.push({ setting: 'alerts.syslog', config: { type: 'syslog', name: 'syslog', host, port, transport, format, ...(caFile === undefined ? {} : { caFile }) } });
  }
  /** A sink-config field (`/<index>/<field>`) as the setting it came from: `/1/secret` → `alerts.webhook.secretEnv`. */
  const settingOf = (field: string): string => {
    const m = /^\/(\d+)(?:\/(\w+))?/.exec(field);
    const entry = m === null ? undefined : list[Number(m[1])];
    if (entry === undefined) return 'alerts';
    const sub = m![2] === 'secret' ? 'secretEnv' : m![2];
    return entry.setting === 'alerts.file' || sub === undefined ? entry.setting : `${entry.setting}.${sub}`;
  };
  try {
    return createSinksFromConfig(
      list.map((l) => l.config),
      { env, readFile: (path) => readFileSync(path, 'utf8') },
    );
  } catch (err) {
    if (!(err instanceof ClosedLoopError) || err.issues.length === 0) throw new ControlPlaneError('alerts', `cannot set up the alert sinks: ${(err as Error).message}`, { cause: err });
    throw new ControlPlaneError(settingOf(err.issues[0]!.field), err.issues.map((i) => `${settingOf(i.field)} ${i.reason}`).join('; '), { cause: err });
  }
}

/** The filter runtime of a source checkout (or `MESHWARD_PROXY_WASM_HOST`). @throws naming what is missing */
export async function findDlpRuntime(): Promise<DlpRuntime> {
  const wasm = findRepoFile('filter/build/meshward.wasm');
  if (wasm === undefined) throw new Error('filter/build/meshward.wasm was not found (run npm run build:filter)');
  return { wasm, createHost: await loadProxyWasmHost(process.env, process.cwd()) };
}

/** A start-up failure naming the part at fault (`xds.port`, `ca`, `store`, ...). */
export class ControlPlaneError extends Error {
  override readonly name = 'ControlPlaneError';
  constructor(
    /** The setting or component at fault, e.g. `xds.port`, `ca`, `dataDir`. */
    readonly setting: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${setting}: ${message}`, options);
  }
}

export function createControlPlane(settings: Settings, options: ControlPlaneOptions = {}): ControlPlane {
  const log = options.logger ?? pino({ level: settings.log.level, base: { service: 'meshward-control-plane' } }, pino.destination(2));
  const clock = options.clock ?? createSystemClock();
  let store: SqliteStore | undefined;
  let ca: MeshCa | undefined;
  let controller: Controller | undefined;
  let xds: XdsServer | undefined;
  let api: FastifyInstance | undefined;
  let loop: ClosedLoop | undefined;
  let serving: ServingCertificate | undefined;
  let unsubscribeSecrets: (() => void) | undefined;
  let detachMetrics: (() => void) | undefined;
  let unsubscribeBundle: (() => void) | undefined;
  let reaper: IdentityReaper | undefined;
  let addresses: ControlPlaneAddresses | undefined;
  let adminToken: BootstrapResult | undefined;
  let startCalled = false;
  let stopping: Promise<void> | undefined;
  let ready = false;

  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new ControlPlaneError(what, 'the control plane is not started');
    return v;
  };

  const stop = async (): Promise<void> => {
    ready = false;
    const step = async (what: string, fn: () => unknown): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        log.error({ err, component: what }, `stopping ${what} failed`);
      }
    };
    await step('api', () => api?.close());
    await step('closed loop', () => loop?.stop());
    await step('controller', () => controller?.stop());
    await step('xds', () => xds?.close());
    await step('secrets', () => unsubscribeSecrets?.());
    await step('metrics', () => detachMetrics?.());
    await step('trust bundle file', () => unsubscribeBundle?.());
    await step('identity reaper', () => reaper?.close());
    await step('serving certificate', () => serving?.close());
    await step('ca', async () => {
      if (ca === undefined) return;
      await Promise.race([ca.idle(), new Promise((r) => setTimeout(r, 2000).unref())]);
      ca.close();
    });
    await step('store', () => store?.close());
    log.info({}, 'control plane stopped');
  };

  const start = async (): Promise<ControlPlaneAddresses> => {
    if (startCalled) throw new ControlPlaneError('start', 'start() may be called once');
    startCalled = true;
    try {
      try {
        mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
      } catch (err) {
        throw new ControlPlaneError('dataDir', `cannot create ${settings.dataDir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
      }
      const dbPath = join(settings.dataDir, DATA_FILES.database);
      try {
        store = createSqliteStore({ path: dbPath, onListenerError: (err) => log.error({ err }, 'a store change listener failed') });
      } catch (err) {
        throw new ControlPlaneError('dataDir', `cannot open the store ${dbPath}: ${(err as Error).message}`, { cause: err });
      }
      const registry = new Registry();
      try {
        ca = await createMeshCa({
          trustDomain: settings.trustDomain,
          store: createFileCaStore({ dir: join(settings.dataDir, DATA_FILES.caDir) }),
          certificates: createSqliteIssuedCertificateStore(store),
          joinTokenStore: createSqliteJoinTokenStore(store),
          clock,
          registry,
          caKeyAlgorithm: settings.ca.keyAlgorithm,
          workloadKeyAlgorithm: settings.ca.workloadKeyAlgorithm,
          workloadCertTtlMs: settings.ca.certTtlMs,
          renewAtFraction: settings.ca.rotationFraction,
          propagationDelayMs: settings.ca.propagationDelayMs,
          joinTokenDefaultTtlMs: settings.ca.joinTokenTtlMs,
          joinTokenMaxTtlMs: Math.max(settings.ca.joinTokenTtlMs, 30 * 86_400_000),
          ...(settings.ca.operatorCa !== undefined ? { operatorCa: settings.ca.operatorCa } : {}),
          log: (level, message) => log[level]({ component: 'ca' }, message),
        });
      } catch (err) {
        const setting = settings.ca.operatorCa !== undefined ? 'ca.operatorCa' : /trust ?domain/i.test((err as Error).message) ? 'trustDomain' : 'ca';
        throw new ControlPlaneError(setting, `cannot load or create the CA in ${join(settings.dataDir, DATA_FILES.caDir)}: ${(err as Error).message}`, { cause: err });
      }
      const meshCa = ca;
      adminToken = bootstrapAdminToken(store, settings.dataDir);
      // The proxy-role token proxies send (it can only lease budget) with budget-lease calls (docs/budgets.md, "Wiring").
      const proxyToken = bootstrapProxyToken(store, settings.dataDir, new Date(clock.now()));
      /** Where proxies ask for budget leases; known once the REST API is bound (set before the controller starts). */
      let budgetLeases: BudgetLeaseEndpoint | undefined;

      const cache = createSnapshotCache({ groupOf: groupKeyOf });
      const secrets = createSecretsProvider(meshCa);
      // The controller is created after the server (it watches the server's fleet); the server
      // only calls authorizeNode once streams arrive, after listen().
      let ctl: Controller | undefined;
      const authenticate = createStreamAuthenticator(meshCa, { allowJoinTokens: settings.xds.joinTokens });
      xds = createXdsServer({
        cache,
        authenticate,
        authorizeNode: (identity, node) => need(ctl, 'controller').authorizeNode(identity, node),
        secrets,
        onError: (err, context) => log.warn({ code: err.code, ...context }, `xDS: ${err.message}`),
      });
      const xdsServer = xds;
      unsubscribeSecrets = secrets.connect((id) => {
        // A revocation blocks the identity (no secrets, no stream auth): its open streams end, so
        // no Envoy keeps serving with what it was given; its reconnect is refused by the authenticator.
        if (id !== undefined && meshCa.isBlocked(id)) {
          const ended = xdsServer.endStreamsOf(id, 'PERMISSION_DENIED', `identity ${id} was revoked: its certificate is on the CRL; issue a new join token to let it back in`);
          if (ended > 0) log.info({ identity: id, streams: ended }, 'ended the xDS streams of a revoked identity');
          return;
        }
        return xdsServer.notifySecretsChanged(id);
      });
      xdsServer.fleet.on('nack', (e) => log.warn({ nodeId: e.nodeId, group: e.group, typeUrl: e.typeUrl, version: e.version, code: e.code }, `NACK: ${e.message}`));
      xdsServer.fleet.on('connect', (s) => log.debug({ nodeId: s.nodeId, group: s.group, identity: s.identity?.id, protocol: s.protocol }, 'xDS stream connected'));
      xdsServer.fleet.on('disconnect', (s) => log.debug({ nodeId: s.nodeId, group: s.group }, 'xDS stream closed'));

      // Identities with no stream for half a certificate lifetime stop being renewed.
      reaper = createIdentityReaper({
        fleet: xdsServer.fleet,
        deactivate: (id) => meshCa.deactivate(id),
        graceMs: settings.ca.certTtlMs / 2,
        clock,
        onDeactivated: (id) => log.info({ identity: id }, 'identity has had no xDS stream for a while; its certificate is no longer renewed'),
      });
      const controllerMetrics = createControllerMetrics(registry);
      detachMetrics = controllerMetrics.attach(store);
      ctl = controller = createController({
        store,
        cache,
        fleet: xdsServer.fleet,
        defaultTrustDomain: settings.trustDomain,
        clock,
        quietMs: settings.xds.debounceQuietMs,
        maxDelayMs: settings.xds.debounceMaxDelayMs,
        proxylessRbac: settings.xds.proxylessRbac,
        budgetLeases: () => budgetLeases,
        typeVersions: createTypeVersionFile(join(settings.dataDir, DATA_FILES.typeVersions), (err) =>
          log.warn({ err }, 'cannot read or write the xDS version record; versions may change on the next restart'),
        ),
        log: log.child({ component: 'controller' }),
        onPublish: (result, status, seconds) => {
          controllerMetrics.onPublish(result, status);
          // The API's fleet metrics (pushes, push duration) exist once the API does.
          api?.meshwardMetrics.recordPublish(result, seconds);
        },
      });

      // The closed loop; its access log service is served on the xDS port (the bootstraps' `meshward_als`).
      const sinks = [...sinksFromSettings(settings.alerts, options.env ?? process.env), ...(options.closedLoop?.extraSinks ?? [])];
      const { extraSinks: _extra, ...tuning } = options.closedLoop ?? {};
      loop = createClosedLoop({
        ...tuning,
        store,
        clock,
        validate: controller.validateCandidate,
        sinks,
        ...(settings.telemetry.alsAuthentication === 'none'
          ? {}
          : { alsAuthenticate: createAlsAuthenticator({ mode: settings.telemetry.alsAuthentication, authenticate, fleet: xdsServer.fleet }) }),
        log: log.child({ component: 'closed-loop' }),
      });
      await loop.start();
      const closedLoop = loop;

      // The trust bundle (public roots) for clients of the TLS endpoints, kept current.
      const bundlePath = join(settings.dataDir, DATA_FILES.caBundle);
      const writeBundle = (): void => {
        try {
          writeFileSync(bundlePath, meshCa.bundle().rootsPem, { mode: 0o644 });
        } catch (err) {
          log.warn({ err }, `cannot write the trust bundle to ${bundlePath}`);
        }
      };
      writeBundle();
      unsubscribeBundle = meshCa.authority.onBundleChanged(writeBundle);

      if (settings.xds.tls === 'tls' || settings.api.tls !== 'off') {
        const isIp = (h: string): boolean => isIP(h) !== 0;
        const hosts = [settings.xds.host, settings.api.host, ...settings.xds.tlsServerNames].filter((h) => h !== '0.0.0.0' && h !== '::');
        serving = await meshCa.servingCertificate({
          dnsNames: [...new Set(['localhost', ...hosts.filter((h) => !isIp(h))])],
          ipAddresses: [...new Set(['127.0.0.1', ...hosts.filter(isIp)])],
        });
      }
      let credentials = createXdsServerCredentials({ mode: 'insecure' });
      if (settings.xds.tls === 'tls') {
        const m = need(serving, 'xds.tls').current();
        const tls = createXdsServerCredentials({ mode: 'tls', certificateChain: m.certificateChain, privateKey: m.privateKey, clientCa: m.clientCa, clientCertificates: 'optional' });
        serving!.onChange((next) => tls.update({ certificateChain: next.certificateChain, privateKey: next.privateKey, clientCa: next.clientCa }));
        credentials = tls;
      }
      let xdsPort: number;
      try {
        xdsPort = await xdsServer.listen({ host: settings.xds.host, port: settings.xds.port, credentials, transport: settings.xds.transport, extraServices: [closedLoop.als.service] });
      } catch (err) {
        throw new ControlPlaneError('xds.port', `cannot listen on ${settings.xds.host}:${settings.xds.port}: ${(err as Error).message}`, { cause: err });
      }

      let dlp: DlpEnginePort | undefined;
      try {
        dlp = createDlpEngine(await (options.dlpRuntime ?? findDlpRuntime)());
      } catch (err) {
        log.warn({ component: 'api' }, `the DLP dry run is unavailable and DLP policies are only schema-checked: ${(err as Error).message}`);
      }

      api = await createApp({
        ...(dlp !== undefined ? { dlp } : {}),
        store,
        trustDomain: settings.trustDomain,
        ca: meshCa,
        fleet: xdsServer.fleet,
        xdsTransport: () => xdsServer.transportStats(),
        controller,
        validateCandidate: controller.validateCandidate,
        metricsRegistries: [registry, closedLoop.registry],
        closedLoop,
        publicDocs: settings.api.publicDocs,
        bodyLimit: settings.api.bodyLimitBytes,
        ...(serving !== undefined && settings.api.tls !== 'off'
          ? {
              tls: {
                key: serving.current().privateKey,
                cert: serving.current().certificateChain,
                ...(settings.api.tls === 'mtls' ? { clientCa: serving.current().clientCa } : {}),
              },
            }
          : {}),
        notReadyReason: () => (ready ? undefined : 'starting or stopping'),
        budgetLeaseState: createFileLeaseState(join(settings.dataDir, DATA_FILES.budgetLeases)),
      });
      if (serving !== undefined && settings.api.tls !== 'off') {
        const app = api;
        const mtls = settings.api.tls === 'mtls';
        // New connections get the renewed certificate (and, for mTLS, the current trust bundle).
        serving.onChange((m) => updateApiTls(app, { key: m.privateKey, cert: m.certificateChain, ...(mtls ? { clientCa: m.clientCa } : {}) }));
      }
      const apiLog = log.child({ component: 'api' });
      api.addHook('onResponse', async (request, reply) => {
        apiLog.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
      });
      api.addHook('onError', async (request, reply, err) => {
        if (reply.statusCode >= 500) apiLog.error({ err, method: request.method, url: request.url }, 'request failed');
      });
      try {
        await api.listen({ host: settings.api.host, port: settings.api.port });
      } catch (err) {
        throw new ControlPlaneError('api.port', `cannot listen on ${settings.api.host}:${settings.api.port}: ${(err as Error).message}`, { cause: err });
      }
      const bound = api.server.address();
      const apiPort = typeof bound === 'object' && bound !== null ? bound.port : settings.api.port;
      const lease = budgetLeaseEndpointOf({
        leaseEndpoint: settings.budgets.leaseEndpoint,
        api: settings.api,
        apiPort,
        token: proxyToken.token,
        servingIdentity: serving?.current().spiffeId,
      });
      budgetLeases = lease.endpoint;
      if (lease.reason !== undefined) log[lease.endpoint === undefined && settings.budgets.leaseEndpoint.kind === 'off' ? 'info' : 'warn']({ component: 'budgets' }, lease.reason);
      // The first publish: after the API is bound, so the lease endpoint (with its real port) is in
      // every snapshot from the start (a snapshot version must not change content later).
      await need(controller, 'controller').start();
      const hostForUrl = (h: string): string => (h.includes(':') ? `[${h}]` : h);
      addresses = {
        xds: `${hostForUrl(settings.xds.host)}:${xdsPort}`,
        xdsPort,
        xdsTls: settings.xds.tls === 'tls',
        api: `${settings.api.tls === 'off' ? 'http' : 'https'}://${hostForUrl(settings.api.host)}:${apiPort}`,
        apiTls: settings.api.tls,
        caBundle: join(settings.dataDir, DATA_FILES.caBundle),
        budgetLeases: lease.url,
        apiPort,
      };
      ready = true;
      log.info({ xds: addresses.xds, api: addresses.api, dataDir: settings.dataDir, revision: store.revision }, 'control plane started');
      return addresses;
    } catch (err) {
      await stopOnce();
      throw err;
    }
  };
  const stopOnce = (): Promise<void> => (stopping ??= stop());

  return {
    start,
    stop: stopOnce,
    get addresses() {
      return addresses;
    },
    get adminToken() {
      return adminToken;
    },
    get store() {
      return need(store, 'store');
    },
    get ca() {
      return need(ca, 'ca');
    },
    get controller() {
      return need(controller, 'controller');
    },
    get xds() {
      return need(xds, 'xds');
    },
    get api() {
      return need(api, 'api');
    },
    get closedLoop() {
      return need(loop, 'closedLoop');
    },
  };
}
