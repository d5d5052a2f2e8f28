/**
 * The control plane's settings: every knob `npm start` reads, its config-file name, its
 * environment variable and its default, in one table ({@link SETTINGS_REFERENCE}) that the parser,
 * the README's configuration reference and the tests all use.
 *
 * Precedence: defaults ← config file (YAML or JSON; `--config <path>` or `MESHWARD_CONFIG`) ←
 * environment variables (`MESHWARD_*`). A bad value anywhere stops start-up naming the setting,
 * where the value came from, and why (see parse-settings.ts).
 *
 * Secrets are never settings: the CA key passphrase is read from `MESHWARD_CA_KEY_PASSPHRASE`
 * by the CA's key store only (see ca/file-ca-store.ts), and never appears in a config file.
 */
import type { KeyAlgorithm } from '../ca/key-material.js';
import type { OperatorCaFiles } from '../ca/operator-ca.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Transport security of the xDS port.
 * - `off`: plaintext (the default: the port is on loopback). Streams still prove their identity
 *   with a join token before any secret is served.
 * - `tls`: TLS with a serving certificate issued (and renewed) by the mesh CA; a client
 *   certificate from the mesh CA is asked for and, when presented, authenticates the stream (mTLS);
 *   join tokens keep working for first contact.
 */
export type XdsTlsMode = 'off' | 'tls';
export const XDS_TLS_MODES: readonly XdsTlsMode[] = ['off', 'tls'];
export type XdsTransport = 'h2' | 'grpc-js';
export const XDS_TRANSPORTS: readonly XdsTransport[] = ['h2', 'grpc-js'];

/**
 * Transport security of the REST API.
 * - `off`: plain HTTP (the default: the port is on loopback; every call still needs a token).
 * - `tls`: HTTPS with a serving certificate from the mesh CA (trust `<dataDir>/ca-bundle.pem`).
 * - `mtls`: HTTPS, and clients must also present a certificate issued by the mesh CA.
 */
export type ApiTlsMode = 'off' | 'tls' | 'mtls';
export const API_TLS_MODES: readonly ApiTlsMode[] = ['off', 'tls', 'mtls'];

/**
 * Who may stream access logs (Envoy's ALS) to the xDS port, where the closed loop serves them.
 * - `fleet` (default): a stream that presents an ADS credential (a mesh client certificate on the
 *   TLS port, or a join token in its metadata) is admitted; otherwise its source address must be
 *   that of an Envoy holding an authenticated ADS stream right now. The generated listeners send no
 *   credential on the ALS stream, so this is what keeps strangers from feeding the loop while the
 *   shipped bootstraps keep working.
 * - `credential`: only streams with an ADS credential (give the bootstrap's `meshward_als` cluster
 *   the same TLS client certificate as `xds_cluster`).
 * - `none`: every stream that reaches the port (tests, trusted networks).
 */
export type AlsAuthenticationMode = 'fleet' | 'credential' | 'none';
export const ALS_AUTHENTICATION_MODES: readonly AlsAuthenticationMode[] = ['fleet', 'credential', 'none'];

export type SyslogTransport = 'tcp' | 'tls';
export const SYSLOG_TRANSPORTS: readonly SyslogTransport[] = ['tcp', 'tls'];
export type SyslogFormat = 'cef' | 'json';
export const SYSLOG_FORMATS: readonly SyslogFormat[] = ['cef', 'json'];

/** Where fired and resolved alerts are delivered (docs/closed-loop.md, "Sinks"). None by default: alerts are always in the database and the API. */
export interface AlertSinkSettings {
  /** JSON-lines file (0600, appended; rotate it with your shipper). Undefined = no file sink. */
  readonly file: string | undefined;
  /** Webhook with an HMAC-SHA256 signature; the key is read from the environment variable `secretEnv` at start. */
  readonly webhook: { readonly url: string; readonly secretEnv: string } | undefined;
  /** Syslog (RFC 5424, octet-counted) over TCP or TLS, in CEF or JSON. */
  readonly syslog:
    | { readonly host: string; readonly port: number; readonly transport: SyslogTransport; readonly format: SyslogFormat; readonly caFile: string | undefined }
    | undefined;
}

export interface Settings {
  /** Where the SQLite database, the CA (keys 0600) and the admin token file live. Relative to the working directory. */
  readonly dataDir: string;
  /** SPIFFE trust domain of every workload identity (until a `mesh` resource says otherwise). */
  readonly trustDomain: string;
  readonly xds: {
    readonly host: string;
    /** 0 = an ephemeral port (tests). */
    readonly port: number;
    readonly tls: XdsTlsMode;
    /** gRPC server carrying ADS and ALS: meshward's compact HTTP/2 ('h2') or @grpc/grpc-js. */
    readonly transport: XdsTransport;
    /** Extra DNS names / IPs on the xDS serving certificate (`tls` only). */
    readonly tlsServerNames: readonly string[];
    /** Publish once no change arrived for this long. */
    readonly debounceQuietMs: number;
    /** …but at most this long after the first change of a burst. */
    readonly debounceMaxDelayMs: number;
    /** Accept join tokens on ADS streams (first contact of a workload). */
    readonly joinTokens: boolean;
    /** Put RBAC in proxyless gRPC server listeners (grpc-js then needs GRPC_XDS_EXPERIMENTAL_RBAC=true). */
    readonly proxylessRbac: boolean;
  };
  readonly api: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
    readonly tls: ApiTlsMode;
    /** Serve /docs and /openapi.json without a token. */
    readonly publicDocs: boolean;
  };
  readonly ca: {
    /** Key algorithm of a CA meshward creates. */
    readonly keyAlgorithm: KeyAlgorithm;
    readonly workloadKeyAlgorithm: KeyAlgorithm;
    /** Workload certificate lifetime. */
    readonly certTtlMs: number;
    /** Re-issue a workload certificate after this fraction of its lifetime. */
    readonly rotationFraction: number;
    /** CA rotation: how long the publish and retire phases each wait for pushes to land. */
    readonly propagationDelayMs: number;
    /** Default lifetime of a join token. */
    readonly joinTokenTtlMs: number;
    /** Bring your own CA: an intermediate under the operator's root. Undefined = meshward creates its own. */
    readonly operatorCa: OperatorCaFiles | undefined;
  };
  readonly telemetry: {
    /** Who may stream access logs to the xDS port (see {@link AlsAuthenticationMode}). */
    readonly alsAuthentication: AlsAuthenticationMode;
  };
  readonly alerts: AlertSinkSettings;
  /** Token budgets across the fleet (docs/budgets.md, "Wiring"). */
  readonly budgets: {
    /**
     * Where proxies reach the REST API for budget leases (`POST /v1/budget-leases`):
     * `{ url }` for an explicit base URL, `derived` for one built from `api.host`, the bound API
     * port and `api.tls`, `off` for none (each proxy then enforces every budget alone).
     */
    readonly leaseEndpoint: { readonly kind: 'url'; readonly url: string } | { readonly kind: 'derived' } | { readonly kind: 'off' };
  };
  readonly log: { readonly level: LogLevel };
  /** Longest a clean shutdown may take before the process exits anyway. */
  readonly shutdownTimeoutMs: number;
}

/** One row of the configuration reference. */
export interface SettingReference {
  /** Dotted name, as written in the config file (`xds.port` = `xds: { port: … }`). */
  readonly name: string;
  readonly env: string;
  /** The default, as a user would write it. */
  readonly default: string;
  readonly description: string;
}

/** Environment variable naming the config file (like `--config <path>`). */
export const CONFIG_ENV = 'MESHWARD_CONFIG';

/**
 * Every setting with its file name, environment variable and default. The parser is driven by
 * this table, so it is complete by construction.
 */
export const SETTINGS_REFERENCE: readonly SettingReference[] = [
  { name: 'dataDir', env: 'MESHWARD_DATA_DIR', default: './.meshward', description: 'Data directory: SQLite store, CA keys (0600), admin token file.' },
  { name: 'trustDomain', env: 'MESHWARD_TRUST_DOMAIN', default: 'meshward.local', description: 'SPIFFE trust domain (lower-case DNS-like name, no scheme or port).' },
  { name: 'xds.host', env: 'MESHWARD_XDS_HOST', default: '127.0.0.1', description: 'Address the xDS (ADS) gRPC server binds.' },
  { name: 'xds.port', env: 'MESHWARD_XDS_PORT', default: '18000', description: 'xDS port (0 = ephemeral).' },
  { name: 'xds.tls', env: 'MESHWARD_XDS_TLS', default: 'off', description: "'off' (plaintext) or 'tls' (serving certificate from the mesh CA; client certificates accepted for mTLS)." },
  { name: 'xds.transport', env: 'MESHWARD_XDS_TRANSPORT', default: 'h2', description: "'h2' (meshward's compact HTTP/2 gRPC server: about a quarter of grpc-js's memory per Envoy) or 'grpc-js' (@grpc/grpc-js on node:http2)." },
  { name: 'xds.tlsServerNames', env: 'MESHWARD_XDS_TLS_SERVER_NAMES', default: '', description: 'Extra DNS names / IPs (comma-separated) on the xDS serving certificate.' },
  { name: 'xds.debounce.quiet', env: 'MESHWARD_DEBOUNCE_QUIET', default: '100ms', description: 'Push once no change arrived for this long.' },
  { name: 'xds.debounce.maxDelay', env: 'MESHWARD_DEBOUNCE_MAX_DELAY', default: '1s', description: 'Push at most this long after the first change of a burst.' },
  { name: 'xds.joinTokens', env: 'MESHWARD_XDS_JOIN_TOKENS', default: 'true', description: 'Accept join tokens on ADS streams.' },
  { name: 'xds.proxylessRbac', env: 'MESHWARD_PROXYLESS_RBAC', default: 'true', description: 'RBAC in proxyless gRPC server listeners (needs GRPC_XDS_EXPERIMENTAL_RBAC=true in the servers).' },
  { name: 'api.host', env: 'MESHWARD_API_HOST', default: '127.0.0.1', description: 'Address the REST API binds.' },
  { name: 'api.port', env: 'MESHWARD_API_PORT', default: '8080', description: 'REST API port (0 = ephemeral).' },
  { name: 'api.tls', env: 'MESHWARD_API_TLS', default: 'off', description: "'off' (HTTP), 'tls' (HTTPS, certificate from the mesh CA; trust <dataDir>/ca-bundle.pem) or 'mtls' (clients also present a mesh certificate)." },
  { name: 'api.bodyLimit', env: 'MESHWARD_API_BODY_LIMIT', default: '1048576', description: 'Largest accepted request body, in bytes.' },
  { name: 'api.publicDocs', env: 'MESHWARD_API_PUBLIC_DOCS', default: 'false', description: 'Serve /docs and /openapi.json without a token.' },
  { name: 'ca.keyAlgorithm', env: 'MESHWARD_CA_KEY_ALGORITHM', default: 'ECDSA_P256', description: 'Key algorithm of a CA meshward creates (ECDSA_P256, ECDSA_P384, RSA_2048, RSA_3072, RSA_4096).' },
  { name: 'ca.workloadKeyAlgorithm', env: 'MESHWARD_WORKLOAD_KEY_ALGORITHM', default: 'ECDSA_P256', description: 'Key algorithm of workload certificates.' },
  { name: 'ca.certTtl', env: 'MESHWARD_CERT_TTL', default: '24h', description: 'Workload certificate lifetime (1m .. 365d).' },
  { name: 'ca.rotationFraction', env: 'MESHWARD_ROTATION_FRACTION', default: '0.5', description: 'Re-issue a workload certificate after this fraction of its lifetime, in (0, 0.9].' },
  { name: 'ca.propagationDelay', env: 'MESHWARD_CA_PROPAGATION_DELAY', default: '5m', description: 'CA rotation: wait of the publish and retire phases.' },
  { name: 'ca.joinTokenTtl', env: 'MESHWARD_JOIN_TOKEN_TTL', default: '24h', description: 'Default lifetime of a join token.' },
  { name: 'ca.operatorCa.certificateFile', env: 'MESHWARD_CA_CERT_FILE', default: '', description: 'Bring your own CA: intermediate certificate (PEM). Set all three files or none.' },
  { name: 'ca.operatorCa.privateKeyFile', env: 'MESHWARD_CA_KEY_FILE', default: '', description: "Bring your own CA: the intermediate's private key (PEM)." },
  { name: 'ca.operatorCa.rootFile', env: 'MESHWARD_CA_ROOT_FILE', default: '', description: "Bring your own CA: the operator's root certificate (PEM)." },
  { name: 'telemetry.alsAuthentication', env: 'MESHWARD_ALS_AUTHENTICATION', default: 'fleet', description: "Who may stream access logs to the xDS port: 'fleet' (an ADS credential, or the address of an Envoy with an authenticated ADS stream), 'credential' (an ADS credential only) or 'none'." },
  { name: 'alerts.file', env: 'MESHWARD_ALERTS_FILE', default: '', description: 'Alert sink: JSON-lines file (0600, appended). Empty = none.' },
  { name: 'alerts.webhook.url', env: 'MESHWARD_ALERTS_WEBHOOK_URL', default: '', description: 'Alert sink: http(s) webhook, signed with HMAC-SHA256. Empty = none.' },
  { name: 'alerts.webhook.secretEnv', env: 'MESHWARD_ALERTS_WEBHOOK_SECRET_ENV', default: 'MESHWARD_ALERTS_WEBHOOK_SECRET', description: 'Name of the environment variable holding the webhook HMAC key (at least 16 bytes; never in a file).' },
  { name: 'alerts.syslog.host', env: 'MESHWARD_ALERTS_SYSLOG_HOST', default: '', description: 'Alert sink: syslog receiver (RFC 5424 over TCP/TLS). Empty = none.' },
  { name: 'alerts.syslog.port', env: 'MESHWARD_ALERTS_SYSLOG_PORT', default: '6514', description: 'Syslog receiver port (1..65535).' },
  { name: 'alerts.syslog.transport', env: 'MESHWARD_ALERTS_SYSLOG_TRANSPORT', default: 'tls', description: "'tls' (RFC 5425) or 'tcp'." },
  { name: 'alerts.syslog.format', env: 'MESHWARD_ALERTS_SYSLOG_FORMAT', default: 'cef', description: "Syslog message body: 'cef' or 'json'." },
  { name: 'alerts.syslog.caFile', env: 'MESHWARD_ALERTS_SYSLOG_CA_FILE', default: '', description: "PEM roots to trust for the syslog receiver's certificate (tls only). Empty = the system roots." },
  { name: 'budgets.leaseEndpoint', env: 'MESHWARD_BUDGET_LEASE_URL', default: '', description: "Base URL at which proxies reach the REST API for token-budget leases (http = plaintext, https = mesh mTLS), e.g. https://meshward-cp.meshward-system.svc:8080. Empty = derived from api.host, the API port and api.tls (none when api.host is a wildcard); 'off' = no leases (each proxy enforces budgets alone)." },
  { name: 'log.level', env: 'MESHWARD_LOG_LEVEL', default: 'info', description: 'fatal, error, warn, info, debug, trace or silent.' },
  { name: 'shutdownTimeout', env: 'MESHWARD_SHUTDOWN_TIMEOUT', default: '10s', description: 'Longest a clean shutdown may take before the process exits anyway.' },
];
