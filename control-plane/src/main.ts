/**
 * Process start-up and shutdown only: read the settings, start the control plane, print what is
 * listening and what to try next, and stop cleanly on SIGINT / SIGTERM (exit 0).
 *
 * Exit codes: 0 after a clean shutdown; 1 when start-up failed or the shutdown timed out;
 * 2 when a setting is invalid (the message names it, its source and the reason).
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { ADMIN_TOKEN_FILE } from './api/bootstrap.js';
import { loadSettings } from './config/load-settings.js';
import { SettingsError } from './config/settings-error.js';
import { formatDuration } from './config/duration.js';
import { ControlPlaneError, createControlPlane, type ControlPlaneAddresses } from './control-plane.js';
import type { Settings } from './config/settings.js';

const ALS_ADMISSION: Readonly<Record<Settings['telemetry']['alsAuthentication'], string>> = {
  fleet: 'admitted with an ADS credential or from a connected Envoy',
  credential: 'admitted with an ADS credential',
  none: 'not authenticated',
};

/** The configured sinks, for the banner (the webhook by origin only: paths may carry tokens). */
function alertSinks(settings: Settings): string {
  const a = settings.alerts;
  const sinks = [
    ...(a.file === undefined ? [] : [`file ${a.file}`]),
    ...(a.webhook === undefined ? [] : [`webhook ${new URL(a.webhook.url).origin}/…`]),
    ...(a.syslog === undefined ? [] : [`syslog ${a.syslog.transport}://${a.syslog.host}:${a.syslog.port} (${a.syslog.format})`]),
  ];
  return sinks.length === 0 ? 'none (alerts are listed by GET /v1/alerts)' : sinks.join(', ');
}

function banner(settings: Settings, addresses: ControlPlaneAddresses, token: { path: string; created: boolean }, configFile: string | undefined): string {
  const tokenNote = token.created ? 'created now; keep it secret' : 'from an earlier start';
  const lines = [
    '',
    'meshward control plane is running',
    `  xDS (ADS, gRPC)  ${addresses.xds}  ${addresses.xdsTls ? 'TLS (mesh CA), mTLS or join token' : 'plaintext; streams authenticate with a join token'}; ${settings.xds.transport === 'h2' ? "meshward's HTTP/2 server" : '@grpc/grpc-js'} (xds.transport ${settings.xds.transport})`,
    `  REST API         ${addresses.api}  (OpenAPI: ${addresses.api}/openapi.json, docs: ${addresses.api}/docs)${addresses.apiTls === 'mtls' ? '; clients need a mesh certificate' : ''}`,
    `  access logs      ${addresses.xds}  (Envoy ALS on the xDS port; ${ALS_ADMISSION[settings.telemetry.alsAuthentication]})`,
    `  alert sinks      ${alertSinks(settings)}`,
    `  data directory   ${settings.dataDir}`,
    `  trust domain     ${settings.trustDomain}  (workload certificates live ${formatDuration(settings.ca.certTtlMs)}, renewed at ${Math.round(settings.ca.rotationFraction * 100)}%)`,
    `  admin token      ${token.path}  (${tokenNote})`,
    `  trust bundle     ${addresses.caBundle}`,
    `  config           ${configFile ?? 'built-in defaults + MESHWARD_* environment variables'}`,
    '',
    'Next, try:',
    `  curl -s${addresses.apiTls === 'off' ? '' : ` --cacert ${shellQuote(addresses.caBundle)}`}${addresses.apiTls === 'mtls' ? ' --cert <client.pem> --key <client.key>' : ''} -H "Authorization: Bearer $(cat ${shellQuote(token.path)})" ${addresses.api}/v1/workloads`,
    '',
    'Stop with Ctrl-C.',
    '',
  ];
  return lines.join('\n');
}

function shellQuote(s: string): string {
  return /^[\w./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

async function main(): Promise<number> {
  let loaded;
  try {
    loaded = loadSettings({ argv: process.argv.slice(2), env: process.env });
  } catch (err) {
    if (SettingsError.is(err)) {
      process.stderr.write(`meshward: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const { settings, configFile } = loaded;
  const log = pino({ level: settings.log.level, base: { service: 'meshward-control-plane' } }, pino.destination({ fd: 2, sync: true }));
  const cp = createControlPlane(settings, { logger: log });

  let signalled: string | undefined;
  let resolveStop!: (signal: string) => void;
  const stopRequested = new Promise<string>((r) => (resolveStop = r));
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled !== undefined) {
      process.stderr.write(`meshward: ${signal} again; exiting without a clean shutdown\n`);
      process.exit(1);
    }
    signalled = signal;
    resolveStop(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const addresses = await cp.start();
    if (signalled === undefined) {
      process.stdout.write(banner(settings, addresses, cp.adminToken ?? { path: join(settings.dataDir, ADMIN_TOKEN_FILE), created: false }, configFile) + '\n');
    }
  } catch (err) {
    const what = err instanceof ControlPlaneError ? err.message : (err as Error).message;
    log.fatal({ err }, 'start-up failed');
    process.stderr.write(`meshward: start-up failed: ${what}\n`);
    return 1;
  }

  const signal = await stopRequested;
  log.info({ signal }, 'shutting down');
  const timedOut = Symbol('timeout');
  const outcome = await Promise.race([
    cp.stop().then(() => 'stopped' as const),
    new Promise<typeof timedOut>((r) => setTimeout(() => r(timedOut), settings.shutdownTimeoutMs).unref()),
  ]);
  if (outcome === timedOut) {
    process.stderr.write(`meshward: shutdown did not finish within ${formatDuration(settings.shutdownTimeoutMs)}; exiting\n`);
    return 1;
  }
  process.stdout.write('meshward control plane stopped\n');
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Timers of libraries (grpc-js keepalives, pino) must not keep a stopped process alive.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(`meshward: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
