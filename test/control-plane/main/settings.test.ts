import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  loadSettings,
  parseDuration,
  formatDuration,
  parseSettings,
  SETTINGS_REFERENCE,
  SettingsError,
  type Settings,
} from '../../../control-plane/src/config/index.js';

function refused(fn: () => unknown): SettingsError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SettingsError) return err;
    throw err;
  }
  throw new Error('expected a SettingsError');
}

describe('parseSettings', () => {
  it('has documented defaults for everything', () => {
    const s = parseSettings();
    expect(s).toEqual({
      dataDir: './.meshward',
      trustDomain: 'meshward.local',
      xds: { host: '127.0.0.1', port: 18000, tls: 'off', transport: 'h2', tlsServerNames: [], debounceQuietMs: 100, debounceMaxDelayMs: 1000, joinTokens: true, proxylessRbac: true },
      api: { host: '127.0.0.1', port: 8080, bodyLimitBytes: 1048576, tls: 'off', publicDocs: false },
      ca: {
        keyAlgorithm: 'ECDSA_P256',
        workloadKeyAlgorithm: 'ECDSA_P256',
        certTtlMs: 86_400_000,
        rotationFraction: 0.5,
        propagationDelayMs: 300_000,
        joinTokenTtlMs: 86_400_000,
        operatorCa: undefined,
      },
      telemetry: { alsAuthentication: 'fleet' },
      alerts: { file: undefined, webhook: undefined, syslog: undefined },
      budgets: { leaseEndpoint: { kind: 'derived' } },
      log: { level: 'info' },
      shutdownTimeoutMs: 10_000,
    } satisfies Settings);
    expect(Object.isFrozen(s.xds)).toBe(true);
    // every reference row has a distinct env var under MESHWARD_
    expect(new Set(SETTINGS_REFERENCE.map((r) => r.env)).size).toBe(SETTINGS_REFERENCE.length);
    for (const r of SETTINGS_REFERENCE) expect(r.env).toMatch(/^MESHWARD_[A-Z_]+$/);
  });

  it('layers defaults ← file ← environment', () => {
    const s = parseSettings({
      file: {
        name: 'meshward.yaml',
        content: { trustDomain: 'cluster.local', xds: { port: 19000, debounce: { quiet: '50ms', maxDelay: '2s' } }, ca: { certTtl: '1h', rotationFraction: 0.25 }, log: { level: 'debug' } },
      },
      env: { MESHWARD_XDS_PORT: '19001', MESHWARD_API_HOST: 'localhost', MESHWARD_XDS_TLS_SERVER_NAMES: 'cp.example.com, 10.0.0.5', MESHWARD_CA_KEY_ALGORITHM: 'rsa_2048', UNRELATED: 'x', MESHWARD_TOKEN: 'for the CLI' },
    });
    expect(s.trustDomain).toBe('cluster.local');
    expect(s.xds.port).toBe(19001);
    expect(s.xds.debounceQuietMs).toBe(50);
    expect(s.xds.debounceMaxDelayMs).toBe(2000);
    expect(s.xds.tlsServerNames).toEqual(['cp.example.com', '10.0.0.5']);
    expect(s.api.host).toBe('localhost');
    expect(s.ca.certTtlMs).toBe(3_600_000);
    expect(s.ca.rotationFraction).toBe(0.25);
    expect(s.ca.keyAlgorithm).toBe('RSA_2048');
    expect(s.log.level).toBe('debug');
  });

  it.each([
    ['a port that is not a number', { env: { MESHWARD_XDS_PORT: 'abc' } }, 'xds.port (env MESHWARD_XDS_PORT): must be an integer between 0 and 65535, got string "abc"'],
    ['a port out of range', { file: { name: 'f.yaml', content: { api: { port: 70000 } } } }, 'api.port (file f.yaml): must be an integer between 0 and 65535, got number 70000'],
    ['a trust domain with a scheme', { env: { MESHWARD_TRUST_DOMAIN: 'spiffe://Cluster.Local' } }, 'trustDomain (env MESHWARD_TRUST_DOMAIN): must be a lower-case DNS-like name'],
    ['a trust domain with upper case', { env: { MESHWARD_TRUST_DOMAIN: 'Mesh.Local' } }, 'trustDomain (env MESHWARD_TRUST_DOMAIN)'],
    ['a bad duration', { env: { MESHWARD_CERT_TTL: '24 hours' } }, 'ca.certTtl (env MESHWARD_CERT_TTL): must be a duration such as'],
    ['a certificate lifetime too short', { env: { MESHWARD_CERT_TTL: '30s' } }, 'ca.certTtl (env MESHWARD_CERT_TTL): must be between 1m and 365d, got "30s"'],
    ['a rotation fraction of 1', { env: { MESHWARD_ROTATION_FRACTION: '1' } }, 'ca.rotationFraction (env MESHWARD_ROTATION_FRACTION): must be a number in (0, 0.9]'],
    ['an unknown key algorithm', { env: { MESHWARD_CA_KEY_ALGORITHM: 'ed25519' } }, 'ca.keyAlgorithm (env MESHWARD_CA_KEY_ALGORITHM): must be one of ECDSA_P256'],
    ['an unknown TLS mode', { env: { MESHWARD_XDS_TLS: 'mtls' } }, "xds.tls (env MESHWARD_XDS_TLS): must be one of off, tls, got \"mtls\""],
    ['an unknown xDS transport', { env: { MESHWARD_XDS_TRANSPORT: 'nghttp2' } }, "xds.transport (env MESHWARD_XDS_TRANSPORT): must be one of h2, grpc-js, got \"nghttp2\""],
    ['an unknown API TLS mode', { env: { MESHWARD_API_TLS: 'https' } }, 'api.tls (env MESHWARD_API_TLS): must be one of off, tls, mtls, got "https"'],
    ['a bad boolean', { env: { MESHWARD_XDS_JOIN_TOKENS: 'maybe' } }, 'xds.joinTokens (env MESHWARD_XDS_JOIN_TOKENS): must be true or false'],
    ['a bad host', { env: { MESHWARD_API_HOST: 'not a host' } }, 'api.host (env MESHWARD_API_HOST): must be an IP address or a host name'],
    ['a bad log level', { file: { name: 'f.yaml', content: { log: { level: 'verbose' } } } }, 'log.level (file f.yaml): must be one of fatal'],
    ['an unknown file key', { file: { name: 'f.yaml', content: { xds: { prot: 1 } } } }, 'xds.prot (file f.yaml): unknown setting'],
    ['an object where a value belongs', { file: { name: 'f.yaml', content: { xds: { port: { value: 1 } } } } }, 'xds.port (file f.yaml): must be an integer'],
    ['a file that is not a mapping', { file: { name: 'f.yaml', content: ['x'] } }, '(config file) (file f.yaml): must be a mapping of settings'],
    ['maxDelay below quiet', { env: { MESHWARD_DEBOUNCE_QUIET: '2s', MESHWARD_DEBOUNCE_MAX_DELAY: '1s' } }, 'xds.debounce.maxDelay (env MESHWARD_DEBOUNCE_MAX_DELAY): must not be shorter than xds.debounce.quiet (2000 ms)'],
    ['the same port twice', { env: { MESHWARD_API_PORT: '18000' } }, 'api.port (env MESHWARD_API_PORT): must differ from xds.port (both 18000)'],
    ['an unknown ALS authentication mode', { env: { MESHWARD_ALS_AUTHENTICATION: 'token' } }, 'telemetry.alsAuthentication (env MESHWARD_ALS_AUTHENTICATION): must be one of fleet, credential, none, got "token"'],
    ['a webhook URL that is not http(s)', { env: { MESHWARD_ALERTS_WEBHOOK_URL: 'ftp://siem.example/x', S: 'x'.repeat(16) } }, 'alerts.webhook.url (env MESHWARD_ALERTS_WEBHOOK_URL): must be an http(s) URL, got scheme ftp:'],
    ['a webhook URL that is not a URL', { file: { name: 'f.yaml', content: { alerts: { webhook: { url: 'siem' } } } } }, 'alerts.webhook.url (file f.yaml): must be an http(s) URL, got "siem"'],
    ['a webhook URL with credentials', { env: { MESHWARD_ALERTS_WEBHOOK_URL: 'https://u:p@siem.example/x' } }, 'alerts.webhook.url (env MESHWARD_ALERTS_WEBHOOK_URL): must not contain credentials'],
    ['a webhook without its secret', { env: { MESHWARD_ALERTS_WEBHOOK_URL: 'https://siem.example/x' } }, 'alerts.webhook.secretEnv (default): environment variable MESHWARD_ALERTS_WEBHOOK_SECRET must hold the webhook\'s HMAC key'],
    ['a webhook secret too short', { env: { MESHWARD_ALERTS_WEBHOOK_URL: 'https://siem.example/x', MESHWARD_ALERTS_WEBHOOK_SECRET_ENV: 'HOOK_KEY', HOOK_KEY: 'short' } }, 'alerts.webhook.secretEnv (env MESHWARD_ALERTS_WEBHOOK_SECRET_ENV): environment variable HOOK_KEY must hold at least 16 bytes, got 5'],
    ['a secretEnv that is no variable name', { env: { MESHWARD_ALERTS_WEBHOOK_SECRET_ENV: 'MY-KEY' } }, 'alerts.webhook.secretEnv (env MESHWARD_ALERTS_WEBHOOK_SECRET_ENV): must be the name of an environment variable'],
    ['a bad syslog host', { env: { MESHWARD_ALERTS_SYSLOG_HOST: 'siem example' } }, 'alerts.syslog.host (env MESHWARD_ALERTS_SYSLOG_HOST): must be an IP address or a host name'],
    ['syslog port 0', { env: { MESHWARD_ALERTS_SYSLOG_HOST: 'siem.example', MESHWARD_ALERTS_SYSLOG_PORT: '0' } }, 'alerts.syslog.port (env MESHWARD_ALERTS_SYSLOG_PORT): must be between 1 and 65535'],
    ['an unknown syslog transport', { env: { MESHWARD_ALERTS_SYSLOG_TRANSPORT: 'udp' } }, 'alerts.syslog.transport (env MESHWARD_ALERTS_SYSLOG_TRANSPORT): must be one of tcp, tls, got "udp"'],
    ['an unknown syslog format', { file: { name: 'f.yaml', content: { alerts: { syslog: { format: 'leef' } } } } }, 'alerts.syslog.format (file f.yaml): must be one of cef, json, got "leef"'],
    ['a syslog CA file over plain TCP', { env: { MESHWARD_ALERTS_SYSLOG_HOST: 'siem.example', MESHWARD_ALERTS_SYSLOG_TRANSPORT: 'tcp', MESHWARD_ALERTS_SYSLOG_CA_FILE: '/ca.pem' } }, 'alerts.syslog.caFile (env MESHWARD_ALERTS_SYSLOG_CA_FILE): only applies when alerts.syslog.transport is tls'],
    ['a lease endpoint that is not a URL', { env: { MESHWARD_BUDGET_LEASE_URL: 'cp.example:8080' } }, 'budgets.leaseEndpoint (env MESHWARD_BUDGET_LEASE_URL): must be an http(s) URL'],
    ['a lease endpoint with a path', { file: { name: 'f.yaml', content: { budgets: { leaseEndpoint: 'https://cp.example:8080/v1/budget-leases' } } } }, 'budgets.leaseEndpoint (file f.yaml): must be a base URL without path, query or fragment'],
    ['a lease endpoint with credentials', { env: { MESHWARD_BUDGET_LEASE_URL: 'https://u:p@cp.example' } }, 'budgets.leaseEndpoint (env MESHWARD_BUDGET_LEASE_URL): must not contain credentials'],
    ['a wildcard lease endpoint', { env: { MESHWARD_BUDGET_LEASE_URL: 'http://0.0.0.0:8080' } }, 'budgets.leaseEndpoint (env MESHWARD_BUDGET_LEASE_URL): must name an address proxies can dial, not the wildcard 0.0.0.0'],
    ['half a bring-your-own CA', { env: { MESHWARD_CA_CERT_FILE: '/ca.pem' } }, 'ca.operatorCa.privateKeyFile (default): is required when ca.operatorCa.certificateFile is set'],
  ] as const)('refuses %s, naming the setting, its source and the reason', (_what, input, message) => {
    const err = refused(() => parseSettings(input as never));
    expect(err.message).toContain(message);
    expect(err.code).toBe('INVALID_SETTINGS');
  });

  it('reads the budget lease endpoint: a base URL, off, or derived by default', () => {
    expect(parseSettings({ env: { MESHWARD_BUDGET_LEASE_URL: 'https://Meshward-CP.example:8443/' } }).budgets.leaseEndpoint).toEqual({ kind: 'url', url: 'https://meshward-cp.example:8443' });
    expect(parseSettings({ file: { name: 'f.yaml', content: { budgets: { leaseEndpoint: 'http://[fd00::5]:8080' } } } }).budgets.leaseEndpoint).toEqual({ kind: 'url', url: 'http://[fd00::5]:8080' });
    expect(parseSettings({ env: { MESHWARD_BUDGET_LEASE_URL: 'off' } }).budgets.leaseEndpoint).toEqual({ kind: 'off' });
    expect(parseSettings({ env: { MESHWARD_BUDGET_LEASE_URL: '' } }).budgets.leaseEndpoint).toEqual({ kind: 'derived' });
  });

  it('reads the alert sinks and the ALS authentication mode; the webhook key stays in the environment', () => {
    const secret = 'k'.repeat(32);
    const s = parseSettings({
      file: {
        name: 'meshward.yaml',
        content: {
          telemetry: { alsAuthentication: 'credential' },
          alerts: { file: '/var/log/meshward/alerts.jsonl', webhook: { url: 'https://siem.example/hooks/meshward', secretEnv: 'SOC_HOOK_KEY' }, syslog: { host: 'siem.example', caFile: '/etc/meshward/siem-ca.pem' } },
        },
      },
      env: { SOC_HOOK_KEY: secret, MESHWARD_ALERTS_SYSLOG_FORMAT: 'json' },
    });
    expect(s.telemetry).toEqual({ alsAuthentication: 'credential' });
    expect(s.alerts).toEqual({
      file: '/var/log/meshward/alerts.jsonl',
      webhook: { url: 'https://siem.example/hooks/meshward', secretEnv: 'SOC_HOOK_KEY' },
      syslog: { host: 'siem.example', port: 6514, transport: 'tls', format: 'json', caFile: '/etc/meshward/siem-ca.pem' },
    });
    expect(JSON.stringify(s)).not.toContain(secret);
    // syslog settings without a host configure nothing
    expect(parseSettings({ env: { MESHWARD_ALERTS_SYSLOG_PORT: '514', MESHWARD_ALERTS_SYSLOG_TRANSPORT: 'tcp' } }).alerts.syslog).toBeUndefined();
  });

  it('never puts the webhook key in an error message', () => {
    const err = refused(() => parseSettings({ env: { MESHWARD_ALERTS_WEBHOOK_URL: 'https://siem.example/x', MESHWARD_ALERTS_WEBHOOK_SECRET: 'tooshort-secret' } }));
    expect(err.message).toContain('must hold at least 16 bytes, got 15');
    expect(err.message).not.toContain('tooshort-secret');
  });

  it('reports every bad setting at once', () => {
    const err = refused(() => parseSettings({ env: { MESHWARD_XDS_PORT: 'abc', MESHWARD_TRUST_DOMAIN: 'UPPER' } }));
    expect(err.issues.map((i) => i.setting).sort()).toEqual(['trustDomain', 'xds.port']);
    expect(err.message.split('\n')).toHaveLength(3);
  });

  it('parses durations', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration(42)).toBe(42);
    expect(parseDuration('42')).toBe(42);
    expect(parseDuration('1x')).toMatch(/must be a duration/);
    expect(parseDuration(-1)).toMatch(/non-negative/);
  });
});

describe('loadSettings', () => {
  const withDir = (fn: (dir: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-settings-'));
    try {
      fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('reads YAML from --config and JSON from MESHWARD_CONFIG; resolves dataDir against cwd', () =>
    withDir((dir) => {
      writeFileSync(join(dir, 'cp.yaml'), '# meshward\ndataDir: state\nxds:\n  port: 18100\n');
      const a = loadSettings({ argv: ['--config', 'cp.yaml'], env: {}, cwd: dir });
      expect(a.configFile).toBe(join(dir, 'cp.yaml'));
      expect(a.settings.dataDir).toBe(join(dir, 'state'));
      expect(a.settings.xds.port).toBe(18100);

      writeFileSync(join(dir, 'cp.json'), JSON.stringify({ api: { port: 18101 } }));
      const b = loadSettings({ argv: [], env: { MESHWARD_CONFIG: join(dir, 'cp.json'), MESHWARD_API_HOST: '::1' }, cwd: dir });
      expect(b.settings.api.port).toBe(18101);
      expect(b.settings.api.host).toBe('::1');
      expect(b.settings.dataDir).toBe(join(dir, '.meshward'));
      // --config wins over the environment; --config=path works too
      expect(loadSettings({ argv: ['--config=cp.yaml'], env: { MESHWARD_CONFIG: 'cp.json' }, cwd: dir }).settings.xds.port).toBe(18100);
      // an empty file is all defaults
      writeFileSync(join(dir, 'empty.yaml'), '');
      expect(loadSettings({ argv: ['-c', 'empty.yaml'], env: {}, cwd: dir }).settings.xds.port).toBe(18000);
      // alert sink files are resolved against cwd too
      writeFileSync(join(dir, 'sinks.yaml'), 'alerts:\n  file: logs/alerts.jsonl\n  syslog:\n    host: 10.0.0.9\n    caFile: siem-ca.pem\n');
      const c = loadSettings({ argv: ['--config', 'sinks.yaml'], env: {}, cwd: dir }).settings.alerts;
      expect(c.file).toBe(join(dir, 'logs/alerts.jsonl'));
      expect(c.syslog?.caFile).toBe(join(dir, 'siem-ca.pem'));
    }));

  it.each([
    [['--config'], 'config (--config): needs a file path'],
    [['--config', 'missing.yaml'], 'config (--config): cannot read'],
    [['--port', '1'], '--port (command line): unknown argument'],
    [['--config', 'bad.yaml'], '(config file) (file'],
    [['--config', 'bad.json'], 'is not valid JSON'],
    [['--config', 'dup.yaml'], 'is not valid YAML'],
  ])('refuses %j', (argv, message) =>
    withDir((dir) => {
      writeFileSync(join(dir, 'bad.yaml'), 'xds: [1\n');
      writeFileSync(join(dir, 'bad.json'), '{"xds": ');
      writeFileSync(join(dir, 'dup.yaml'), 'xds:\n  port: 1\nxds:\n  port: 2\n');
      expect(refused(() => loadSettings({ argv, env: {}, cwd: dir })).message).toContain(message);
    }),
  );
});

describe('formatDuration', () => {
  it.each([
    [86_400_000, '24h'],
    [2 * 86_400_000, '2d'],
    [90 * 60_000, '1h30m'],
    [1500, '1s500ms'],
    [0, '0s'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});

describe('the example config file', () => {
  const example = resolve(import.meta.dirname, '../../../control-plane/src/config/meshward.example.yaml');

  it('names every setting with its environment variable and parses to exactly the defaults', () => {
    const text = readFileSync(example, 'utf8');
    for (const ref of SETTINGS_REFERENCE) expect(text, ref.name).toContain(`# ${ref.env}`);
    const loaded = loadSettings({ argv: ['--config', example], env: {}, cwd: '/srv' });
    expect(loaded.settings).toEqual({ ...parseSettings(), dataDir: '/srv/.meshward' });
  });
});
