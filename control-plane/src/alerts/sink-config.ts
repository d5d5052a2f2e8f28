/**
 * Sinks from configuration (a JSON/YAML array an operator writes), for the composition root:
 *
 *   [{ "type": "webhook", "name": "soc", "url": "https://siem.example/hooks/meshward", "secretEnv": "MESHWARD_WEBHOOK_SECRET" },
 *    { "type": "syslog", "host": "siem.example", "port": 6514, "transport": "tls", "format": "cef", "caFile": "/etc/meshward/siem-ca.pem" },
 *    { "type": "jsonl", "path": "/var/log/meshward/alerts.jsonl" }]
 *
 * Secrets are never inline: `secretEnv` names the environment variable holding the HMAC key.
 * One pure parse (files and environment are read through the injected functions); a bad entry
 * rejects the whole list with every problem named by its JSON pointer.
 */
import { ClosedLoopError, type ClosedLoopIssue } from './alert-error.js';
import type { AlertSink } from './alert-sink.js';
import { createJsonlFileSink } from './jsonl-file-sink.js';
import { createSyslogSink } from './syslog-sink.js';
import { createWebhookSink } from './webhook-sink.js';

export interface SinkConfigEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => string;
}

export function createSinksFromConfig(input: unknown, io: SinkConfigEnvironment): AlertSink[] {
  if (!Array.isArray(input)) throw ClosedLoopError.invalid('', 'must be an array of sink definitions');
  const issues: ClosedLoopIssue[] = [];
  const sinks: AlertSink[] = [];
  const names = new Set<string>();
  input.forEach((raw, i) => {
    const at = (f: string): string => `/${i}${f}`;
    const bad = (f: string, reason: string): void => void issues.push({ field: at(f), reason });
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('', 'must be an object');
    const o = raw as Record<string, unknown>;
    const str = (k: string, required = true): string | undefined => {
      const v = o[k];
      if (v === undefined && !required) return undefined;
      if (typeof v !== 'string' || v === '') {
        bad(`/${k}`, 'must be a non-empty string');
        return undefined;
      }
      return v;
    };
    const allowed: Record<string, readonly string[]> = {
      webhook: ['type', 'name', 'url', 'secretEnv', 'timeoutMs'],
      syslog: ['type', 'name', 'host', 'port', 'transport', 'format', 'caFile', 'certFile', 'keyFile', 'servername', 'framing', 'facility', 'appName'],
      jsonl: ['type', 'name', 'path'],
    };
    const type = o['type'];
    if (typeof type !== 'string' || allowed[type] === undefined) return bad('/type', 'must be webhook, syslog or jsonl');
    for (const k of Object.keys(o)) if (!allowed[type]!.includes(k)) bad(`/${k}`, `is not a field of a ${type} sink`);
    const name = str('name', false) ?? (type === 'syslog' ? `syslog-${String(o['transport'] ?? 'tcp')}` : type);
    if (names.has(name)) bad('/name', `another sink is already named ${name}`);
    names.add(name);
    const file = (k: string): string | undefined => {
      const p = str(k, false);
      if (p === undefined) return undefined;
      try {
        return io.readFile(p);
      } catch (err) {
        bad(`/${k}`, `cannot read ${p}: ${(err as Error).message}`);
        return undefined;
      }
    };
    try {
      if (type === 'webhook') {
        const url = str('url');
        const secretEnv = str('secretEnv');
        const secret = secretEnv === undefined ? undefined : io.env[secretEnv];
        if (secretEnv !== undefined && (secret === undefined || secret === '')) bad('/secretEnv', `environment variable ${secretEnv} is not set`);
        const timeoutMs = o['timeoutMs'];
        if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 120_000)) bad('/timeoutMs', 'must be an integer in [100, 120000]');
        if (url !== undefined && secret !== undefined && secret !== '') sinks.push(createWebhookSink({ url, secret, name, ...(typeof timeoutMs === 'number' ? { timeoutMs } : {}) }));
      } else if (type === 'syslog') {
        const host = str('host');
        const port = o['port'];
        if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) bad('/port', 'must be an integer in [1, 65535]');
        const transport = o['transport'] ?? 'tcp';
        if (transport !== 'tcp' && transport !== 'tls') bad('/transport', 'must be tcp or tls');
        const format = o['format'] ?? 'cef';
        if (format !== 'cef' && format !== 'json') bad('/format', 'must be cef or json');
        const framing = o['framing'] ?? 'octet-counting';
        if (framing !== 'octet-counting' && framing !== 'lf') bad('/framing', 'must be octet-counting or lf');
        const facility = o['facility'];
        if (facility !== undefined && (typeof facility !== 'number' || !Number.isInteger(facility) || facility < 0 || facility > 23)) bad('/facility', 'must be an integer in [0, 23]');
        if (transport !== 'tls') for (const k of ['caFile', 'certFile', 'keyFile', 'servername']) if (o[k] !== undefined) bad(`/${k}`, 'only applies to transport tls');
        if ((o['certFile'] === undefined) !== (o['keyFile'] === undefined)) bad('/certFile', 'certFile and keyFile go together');
        const ca = file('caFile');
        const cert = file('certFile');
        const key = file('keyFile');
        const servername = str('servername', false);
        const appName = str('appName', false);
        if (host !== undefined && typeof port === 'number' && (transport === 'tcp' || transport === 'tls') && (format === 'cef' || format === 'json') && (framing === 'octet-counting' || framing === 'lf')) {
          sinks.push(
            createSyslogSink({
              host,
              port,
              transport,
              format,
              name,
              framing,
              ...(typeof facility === 'number' ? { facility } : {}),
              ...(ca === undefined ? {} : { ca }),
              ...(cert === undefined ? {} : { cert }),
              ...(key === undefined ? {} : { key }),
              ...(servername === undefined ? {} : { servername }),
              ...(appName === undefined ? {} : { appName }),
            }),
          );
        }
      } else {
        const path = str('path');
        if (path !== undefined) sinks.push(createJsonlFileSink({ path, name }));
      }
    } catch (err) {
      // The sink factories' own checks (URL scheme, secret length, port) name their field first.
      const m = /^(\w+): (.*)$/.exec((err as Error).message);
      bad(m === null ? '' : `/${m[1]}`, m === null ? (err as Error).message : m[2]!);
    }
  });
  if (issues.length > 0) throw new ClosedLoopError('INVALID', `invalid alert sinks: ${issues.map((i) => `${i.field} ${i.reason}`).join('; ')}`, issues);
  return sinks;
}
