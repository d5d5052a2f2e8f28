/**
 * The one pure parse-and-validate function of the control plane's settings (no file or
 * environment access: the caller hands both in; see load-settings.ts for the I/O edge).
 *
 * Contract: returns a complete, frozen {@link Settings} or throws one {@link SettingsError}
 * listing every bad setting (name, source, reason) — never a partial result. Unknown keys in the
 * config file are errors (a typo must not silently fall back to a default); unknown `MESHWARD_*`
 * environment variables are ignored, because other tools (the CLI) read their own.
 */
import { isIP } from 'node:net';
import { KEY_ALGORITHMS, type KeyAlgorithm } from '../ca/key-material.js';
import { isValidTrustDomain } from '../model/spiffe-id.js';
import { parseDuration, typeOf } from './duration.js';
import { SettingsError, type SettingIssue } from './settings-error.js';
import {
  ALS_AUTHENTICATION_MODES,
  API_TLS_MODES,
  LOG_LEVELS,
  SYSLOG_FORMATS,
  SYSLOG_TRANSPORTS,
  SETTINGS_REFERENCE,
  XDS_TLS_MODES,
  XDS_TRANSPORTS,
  type AlsAuthenticationMode,
  type ApiTlsMode,
  type LogLevel,
  type SyslogFormat,
  type SyslogTransport,
  type Settings,
  type XdsTlsMode,
  type XdsTransport,
} from './settings.js';

export interface SettingsInput {
  /** The parsed config file (a YAML or JSON document), if any. */
  readonly file?: { readonly name: string; readonly content: unknown };
  /**
   * The environment (`process.env`). Only `MESHWARD_*` names in the reference are read, plus the
   * variable `alerts.webhook.secretEnv` names (checked to be set when a webhook is; never copied
   * into the settings or an error message).
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A refusal reason (parsers return it instead of a value). */
class Fail {
  constructor(readonly error: string) {}
}
type Parsed<T> = T | Fail;
const fail = (error: string): Fail => new Fail(error);
const isFail = (v: unknown): v is Fail => v instanceof Fail;

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/i;

function str(raw: unknown): Parsed<string> {
  if (typeof raw === 'string') return raw.trim();
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  return fail(`must be a string, got ${typeOf(raw)}`);
}

function port(raw: unknown): Parsed<number> {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) return fail(`must be an integer between 0 and 65535, got ${typeOf(raw)}`);
  return n;
}

function host(raw: unknown): Parsed<string> {
  const s = str(raw);
  if (isFail(s)) return s;
  const bare = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  if (isIP(bare) !== 0 || HOSTNAME.test(bare)) return bare;
  return fail(`must be an IP address or a host name, got "${s}"`);
}

function bool(raw: unknown): Parsed<boolean> {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') {
    const s = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(s)) return true;
    if (['false', '0', 'no', 'off'].includes(s)) return false;
  }
  return fail(`must be true or false, got ${typeOf(raw)}`);
}

function oneOf<T extends string>(values: readonly T[], caseInsensitive = false) {
  return (raw: unknown): Parsed<T> => {
    const s = str(raw);
    if (isFail(s)) return s;
    const found = values.find((v) => (caseInsensitive ? v.toLowerCase() === s.toLowerCase() : v === s));
    return found ?? fail(`must be one of ${values.join(', ')}, got "${s}"`);
  };
}

function duration(min: number, max: number, what: string) {
  return (raw: unknown): Parsed<number> => {
    const ms = parseDuration(raw);
    if (typeof ms === 'string') return fail(ms);
    if (ms < min || ms > max) return fail(`must be ${what}, got ${typeof raw === 'string' ? `"${raw}"` : `${ms} ms`}`);
    return ms;
  };
}

function fraction(raw: unknown): Parsed<number> {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!(n > 0 && n <= 0.9)) return fail(`must be a number in (0, 0.9], got ${typeOf(raw)}`);
  return n;
}

function positiveInt(max: number) {
  return (raw: unknown): Parsed<number> => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > max) return fail(`must be an integer between 1 and ${max}, got ${typeOf(raw)}`);
    return n;
  };
}

function trustDomain(raw: unknown): Parsed<string> {
  const s = str(raw);
  if (isFail(s)) return s;
  if (!isValidTrustDomain(s)) {
    return fail(`must be a lower-case DNS-like name such as "meshward.local" or "cluster.local" (no scheme, port or path), got "${s}"`);
  }
  return s;
}

function nonEmptyPath(raw: unknown): Parsed<string> {
  const s = str(raw);
  if (isFail(s)) return s;
  if (s === '') return fail('must be a non-empty path');
  if (s.includes('\0')) return fail('must not contain NUL characters');
  return s;
}

function optionalPath(raw: unknown): Parsed<string> {
  const s = str(raw);
  if (isFail(s)) return s;
  return s.includes('\0') ? fail('must not contain NUL characters') : s;
}

function optionalHost(raw: unknown): Parsed<string> {
  const s = str(raw);
  if (isFail(s) || s === '') return s;
  return host(s);
}

/** An http(s) URL, or empty (= off). Credentials in the URL are refused: they would end up in logs. */
function optionalHttpUrl(raw: unknown): Parsed<string> {
  const s = str(raw);
  if (isFail(s) || s === '') return s;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return fail(`must be an http(s) URL, got "${s}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail(`must be an http(s) URL, got scheme ${url.protocol}`);
  if (url.username !== '' || url.password !== '') return fail('must not contain credentials (the request is signed with the secret from alerts.webhook.secretEnv)');
  return s;
}

/**
 * The REST API's base URL as proxies reach it: `''` (derive), `off`, or http(s)://host[:port][/]
 * without credentials, path, query or fragment (proxies add `/v1/budget-leases`).
 */
function leaseEndpoint(raw: unknown): Parsed<string> {
  const s = str(raw);
  if (isFail(s) || s === '' || s === 'off') return s;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return fail(`must be an http(s) URL such as https://meshward-cp.example:8080, '' (derive from api.*) or 'off', got "${s}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail(`must be an http(s) URL, got scheme ${url.protocol}`);
  if (url.username !== '' || url.password !== '') return fail('must not contain credentials (proxies send their own token)');
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') return fail(`must be a base URL without path, query or fragment (proxies call /v1/budget-leases), got "${s}"`);
  const h = host(url.hostname);
  if (isFail(h)) return fail(`host ${h.error}`);
  if (h === '0.0.0.0' || h === '::') return fail(`must name an address proxies can dial, not the wildcard ${h}`);
  return `${url.protocol}//${url.host}`;
}

function envName(raw: unknown): Parsed<string> {
  const s = str(raw);
  if (isFail(s)) return s;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) return fail(`must be the name of an environment variable (letters, digits, _), got "${s}"`);
  return s;
}

function serverNames(raw: unknown): Parsed<readonly string[]> {
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
  if (list === undefined) return fail(`must be a list of host names or IPs (or a comma-separated string), got ${typeOf(raw)}`);
  const out: string[] = [];
  for (const item of list) {
    if (typeof item === 'string' && item.trim() === '') continue;
    const h = host(item);
    if (isFail(h)) return fail(`entry ${JSON.stringify(item)} ${h.error}`);
    out.push(h);
  }
  return out;
}

/** Setting name → its parser. Names and env vars come from SETTINGS_REFERENCE. */
const PARSERS: Readonly<Record<string, (raw: unknown) => Parsed<unknown>>> = {
  dataDir: nonEmptyPath,
  trustDomain,
  'xds.host': host,
  'xds.port': port,
  'xds.tls': oneOf<XdsTlsMode>(XDS_TLS_MODES),
  'xds.transport': oneOf<XdsTransport>(XDS_TRANSPORTS),
  'xds.tlsServerNames': serverNames,
  'xds.debounce.quiet': duration(0, 60_000, 'between 0 and 60s'),
  'xds.debounce.maxDelay': duration(0, 600_000, 'between 0 and 10m'),
  'xds.joinTokens': bool,
  'xds.proxylessRbac': bool,
  'api.host': host,
  'api.port': port,
  'api.tls': oneOf<ApiTlsMode>(API_TLS_MODES),
  'api.bodyLimit': positiveInt(64 * 1024 * 1024),
  'api.publicDocs': bool,
  'ca.keyAlgorithm': oneOf<KeyAlgorithm>(KEY_ALGORITHMS, true),
  'ca.workloadKeyAlgorithm': oneOf<KeyAlgorithm>(KEY_ALGORITHMS, true),
  'ca.certTtl': duration(60_000, 365 * 86_400_000, 'between 1m and 365d'),
  'ca.rotationFraction': fraction,
  'ca.propagationDelay': duration(0, 7 * 86_400_000, 'between 0 and 7d'),
  'ca.joinTokenTtl': duration(60_000, 365 * 86_400_000, 'between 1m and 365d'),
  'ca.operatorCa.certificateFile': optionalPath,
  'ca.operatorCa.privateKeyFile': optionalPath,
  'ca.operatorCa.rootFile': optionalPath,
  'telemetry.alsAuthentication': oneOf<AlsAuthenticationMode>(ALS_AUTHENTICATION_MODES),
  'alerts.file': optionalPath,
  'alerts.webhook.url': optionalHttpUrl,
  'alerts.webhook.secretEnv': envName,
  'alerts.syslog.host': optionalHost,
  'alerts.syslog.port': port,
  'alerts.syslog.transport': oneOf<SyslogTransport>(SYSLOG_TRANSPORTS),
  'alerts.syslog.format': oneOf<SyslogFormat>(SYSLOG_FORMATS),
  'alerts.syslog.caFile': optionalPath,
  'budgets.leaseEndpoint': leaseEndpoint,
  'log.level': oneOf<LogLevel>(LOG_LEVELS),
  shutdownTimeout: duration(100, 600_000, 'between 100ms and 10m'),
};

/** Leaf paths of a config document: `{ xds: { port: 1 } }` → [['xds.port', 1]]. */
function leaves(value: unknown, prefix: string, out: Array<[string, unknown]>): void {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    // An object where a setting is expected is reported by the setting's parser.
    if (prefix !== '' && PARSERS[prefix] !== undefined) {
      out.push([prefix, value]);
      return;
    }
    for (const [k, v] of entries) leaves(v, prefix === '' ? k : `${prefix}.${k}`, out);
    return;
  }
  out.push([prefix, value]);
}

/**
 * Parses and validates the settings: defaults ← file ← environment. Pure.
 * @throws SettingsError naming every bad setting.
 */
export function parseSettings(input: SettingsInput = {}): Settings {
  const issues: SettingIssue[] = [];
  const values = new Map<string, unknown>();
  const sources = new Map<string, string>();

  for (const ref of SETTINGS_REFERENCE) {
    const parsed = PARSERS[ref.name]!(ref.default);
    if (isFail(parsed)) throw new Error(`built-in default of ${ref.name} is invalid: ${parsed.error}`);
    values.set(ref.name, parsed);
    sources.set(ref.name, 'default');
  }

  if (input.file !== undefined) {
    const source = `file ${input.file.name}`;
    const content = input.file.content;
    if (content === null || content === undefined) {
      // An empty file: nothing to override.
    } else if (typeof content !== 'object' || Array.isArray(content)) {
      issues.push({ setting: '(config file)', source, reason: `must be a mapping of settings, got ${typeOf(content)}` });
    } else {
      const found: Array<[string, unknown]> = [];
      leaves(content, '', found);
      for (const [name, raw] of found) {
        const parser = PARSERS[name];
        if (parser === undefined) {
          issues.push({ setting: name, source, reason: `unknown setting (known: ${SETTINGS_REFERENCE.map((r) => r.name).join(', ')})` });
          continue;
        }
        const parsed = parser(raw);
        if (isFail(parsed)) issues.push({ setting: name, source, reason: parsed.error });
        else {
          values.set(name, parsed);
          sources.set(name, source);
        }
      }
    }
  }

  const env = input.env ?? {};
  for (const ref of SETTINGS_REFERENCE) {
    const raw = env[ref.env];
    if (raw === undefined) continue;
    const source = `env ${ref.env}`;
    const parsed = PARSERS[ref.name]!(raw);
    if (isFail(parsed)) issues.push({ setting: ref.name, source, reason: parsed.error });
    else {
      values.set(ref.name, parsed);
      sources.set(ref.name, source);
    }
  }

  const v = <T>(name: string): T => values.get(name) as T;
  const src = (name: string): string => sources.get(name)!;

  // Cross-field rules (only meaningful when the fields themselves parsed).
  if (issues.length === 0) {
    if (v<number>('xds.debounce.maxDelay') < v<number>('xds.debounce.quiet')) {
      issues.push({
        setting: 'xds.debounce.maxDelay',
        source: src('xds.debounce.maxDelay'),
        reason: `must not be shorter than xds.debounce.quiet (${v<number>('xds.debounce.quiet')} ms)`,
      });
    }
    const xp = v<number>('xds.port');
    if (xp !== 0 && xp === v<number>('api.port') && sameBind(v<string>('xds.host'), v<string>('api.host'))) {
      issues.push({ setting: 'api.port', source: src('api.port'), reason: `must differ from xds.port (both ${xp})` });
    }
    if (v<string>('alerts.webhook.url') !== '') {
      const name = v<string>('alerts.webhook.secretEnv');
      const secret = env[name];
      if (secret === undefined || secret === '') {
        issues.push({ setting: 'alerts.webhook.secretEnv', source: src('alerts.webhook.secretEnv'), reason: `environment variable ${name} must hold the webhook's HMAC key (alerts.webhook.url is set)` });
      } else if (Buffer.byteLength(secret) < 16) {
        issues.push({ setting: 'alerts.webhook.secretEnv', source: src('alerts.webhook.secretEnv'), reason: `environment variable ${name} must hold at least 16 bytes, got ${Buffer.byteLength(secret)}` });
      }
    }
    if (v<string>('alerts.syslog.host') !== '') {
      if (v<number>('alerts.syslog.port') === 0) issues.push({ setting: 'alerts.syslog.port', source: src('alerts.syslog.port'), reason: 'must be between 1 and 65535' });
      if (v<string>('alerts.syslog.caFile') !== '' && v<string>('alerts.syslog.transport') !== 'tls') {
        issues.push({ setting: 'alerts.syslog.caFile', source: src('alerts.syslog.caFile'), reason: 'only applies when alerts.syslog.transport is tls' });
      }
    }
    const caFiles = ['ca.operatorCa.certificateFile', 'ca.operatorCa.privateKeyFile', 'ca.operatorCa.rootFile'];
    const set = caFiles.filter((n) => v<string>(n) !== '');
    if (set.length > 0 && set.length < caFiles.length) {
      for (const n of caFiles.filter((x) => !set.includes(x))) {
        issues.push({ setting: n, source: src(n), reason: `is required when ${set.join(' and ')} ${set.length === 1 ? 'is' : 'are'} set (bring your own CA needs all three files)` });
      }
    }
  }
  if (issues.length > 0) throw new SettingsError(issues);

  const operatorCa =
    v<string>('ca.operatorCa.certificateFile') === ''
      ? undefined
      : {
          certificateFile: v<string>('ca.operatorCa.certificateFile'),
          privateKeyFile: v<string>('ca.operatorCa.privateKeyFile'),
          rootFile: v<string>('ca.operatorCa.rootFile'),
        };
  const settings: Settings = {
    dataDir: v('dataDir'),
    trustDomain: v('trustDomain'),
    xds: {
      host: v('xds.host'),
      port: v('xds.port'),
      tls: v('xds.tls'),
      transport: v('xds.transport'),
      tlsServerNames: Object.freeze([...v<readonly string[]>('xds.tlsServerNames')]),
      debounceQuietMs: v('xds.debounce.quiet'),
      debounceMaxDelayMs: v('xds.debounce.maxDelay'),
      joinTokens: v('xds.joinTokens'),
      proxylessRbac: v('xds.proxylessRbac'),
    },
    api: { host: v('api.host'), port: v('api.port'), bodyLimitBytes: v('api.bodyLimit'), tls: v('api.tls'), publicDocs: v('api.publicDocs') },
    ca: {
      keyAlgorithm: v('ca.keyAlgorithm'),
      workloadKeyAlgorithm: v('ca.workloadKeyAlgorithm'),
      certTtlMs: v('ca.certTtl'),
      rotationFraction: v('ca.rotationFraction'),
      propagationDelayMs: v('ca.propagationDelay'),
      joinTokenTtlMs: v('ca.joinTokenTtl'),
      operatorCa: operatorCa === undefined ? undefined : Object.freeze(operatorCa),
    },
    telemetry: { alsAuthentication: v('telemetry.alsAuthentication') },
    alerts: {
      file: v<string>('alerts.file') === '' ? undefined : v<string>('alerts.file'),
      webhook: v<string>('alerts.webhook.url') === '' ? undefined : { url: v('alerts.webhook.url'), secretEnv: v('alerts.webhook.secretEnv') },
      syslog:
        v<string>('alerts.syslog.host') === ''
          ? undefined
          : {
              host: v('alerts.syslog.host'),
              port: v('alerts.syslog.port'),
              transport: v('alerts.syslog.transport'),
              format: v('alerts.syslog.format'),
              caFile: v<string>('alerts.syslog.caFile') === '' ? undefined : v<string>('alerts.syslog.caFile'),
            },
    },
    budgets: {
      leaseEndpoint:
        v<string>('budgets.leaseEndpoint') === ''
          ? { kind: 'derived' }
          : v<string>('budgets.leaseEndpoint') === 'off'
            ? { kind: 'off' }
            : { kind: 'url', url: v('budgets.leaseEndpoint') },
    },
    log: { level: v('log.level') },
    shutdownTimeoutMs: v('shutdownTimeout'),
  };
  return deepFreeze(settings);
}

/** Two binds collide when the hosts are equal or either is a wildcard address. */
function sameBind(a: string, b: string): boolean {
  const wildcard = (h: string): boolean => h === '0.0.0.0' || h === '::';
  return a === b || wildcard(a) || wildcard(b);
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
