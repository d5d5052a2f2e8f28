import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDuration } from '../config/duration.js';
import type { AuditReport, CallerRow, ReportAuditItem } from '../reports/audit-report.js';
import { createApiClient } from './api-client.js';
import { CONNECTION_HELP, CONNECTION_OPTIONS, stringFlag, type CliCommand } from './cli-command.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { resolveConnection } from './connection.js';
import { formatTable } from './table.js';

export type ReportFormat = 'text' | 'json' | 'html';
const FORMATS: readonly ReportFormat[] = ['text', 'json', 'html'];

/**
 * A period bound as the API wants it (RFC 3339, UTC): an RFC 3339 / ISO 8601 time as is, or a
 * duration (`24h`, `7d`, `1h30m`) meaning that long before `now`. @throws CliError (USAGE) naming the flag
 */
export function periodBound(flag: string, raw: string, now: number): string {
  if (/^\d+(\.\d+)?(ms|s|m|h|d)(\d+(\.\d+)?(ms|s|m|h|d))*$/.test(raw)) {
    const ms = parseDuration(raw);
    if (typeof ms === 'string') throw CliError.usage(`--${flag}: ${ms}`);
    return new Date(now - ms).toISOString();
  }
  // A date alone (2026-03-01) is midnight UTC; otherwise the time must say its zone.
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw) && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(raw)) {
    throw CliError.usage(`--${flag}: "${raw}" must be an RFC 3339 time (2026-03-01T00:00:00Z), a date (2026-03-01) or a duration before now (24h, 7d)`);
  }
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw CliError.usage(`--${flag}: "${raw}" is not a valid time`);
  return new Date(ms).toISOString();
}

const count = (n: number): string => n.toLocaleString('en-US');
const findings = (f: Readonly<Record<string, number>>): string =>
  Object.entries(f)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k}:${v}`)
    .join(' ') || '-';

/** The report as terminal text: totals, then one table per section (empty sections say so). */
export function formatReportText(r: AuditReport, maxRows = 20): string {
  const out: string[] = [];
  const t = r.totals;
  out.push(`meshward audit report  ${r.period.since} → ${r.period.until}  (generated ${r.generatedAt})`);
  out.push(
    `requests ${count(t.requests)} from ${count(t.callers)} caller(s) to ${count(t.models)} model(s); denied: RBAC ${count(t.deniedRbac)}, mTLS ${count(t.deniedMtls)}, rate-limited ${count(t.rateLimited)}; errors ${count(t.errors)}; DLP: alerted ${count(t.dlpAlerted)}, redacted ${count(t.dlpRedacted)}, blocked ${count(t.dlpBlocked)}; alerts fired ${count(r.alerts.fired)}`,
  );
  const section = (title: string, header: readonly string[], rows: readonly (readonly string[])[], total: number): void => {
    out.push('', `${title}${total > rows.length ? ` (first ${rows.length} of ${total})` : ''}`);
    out.push(rows.length === 0 ? '  (none)' : formatTable(header, rows).trimEnd().replace(/^/gm, '  '));
  };
  const callRows = (rows: readonly CallerRow[], cells: (c: CallerRow) => string[]): string[][] => rows.slice(0, maxRows).map(cells);
  section('Calls', ['IDENTITY', 'MODEL', 'VERSIONS', 'REQUESTS', 'ERRORS', 'REQ BYTES', 'RESP BYTES'], callRows(r.calls, (c) => [c.identity, c.model || '-', c.versions.join(',') || '-', count(c.requests), count(c.errors), count(c.requestBytes), count(c.responseBytes)]), r.calls.length);
  section('Denied', ['IDENTITY', 'MODEL', 'RBAC', 'MTLS', 'RATE-LIMITED'], callRows(r.denied, (c) => [c.identity, c.model || '-', count(c.deniedRbac), count(c.deniedMtls), count(c.rateLimited)]), r.denied.length);
  section('Data protection', ['IDENTITY', 'MODEL', 'ALERTED', 'REDACTED', 'BLOCKED', 'FINDINGS'], callRows(r.dataProtection, (c) => [c.identity, c.model || '-', count(c.dlpAlerted), count(c.dlpRedacted), count(c.dlpBlocked), findings(c.findings)]), r.dataProtection.length);
  section(
    'Alerts',
    ['FIRED AT', 'SEVERITY', 'RULE', 'SERIES', 'STATE'],
    r.alerts.items.slice(0, maxRows).map((a) => [a.firedAt, a.severity, a.rule, `${a.dimension}:${a.key}`, a.state]),
    r.alerts.items.length,
  );
  const auditRows = (items: readonly ReportAuditItem[]): string[][] => items.slice(0, maxRows).map((e) => [e.at, e.actor, `${e.action} ${e.kind}/${e.name}`, e.reason ?? '']);
  section('Certificates and CA', ['AT', 'ACTOR', 'CHANGE', 'REASON'], auditRows(r.certificates), r.certificates.length);
  section('Policy changes', ['AT', 'ACTOR', 'CHANGE', 'REASON'], auditRows(r.policyChanges), r.policyChanges.length);
  section('Time-window switches', ['AT', 'ACTOR', 'CHANGE', 'REASON'], auditRows(r.timeWindowSwitches), r.timeWindowSwitches.length);
  section('Rollouts', ['AT', 'ACTOR', 'CHANGE', 'REASON'], auditRows(r.rollouts), r.rollouts.length);
  const cut = Object.entries(r.truncated)
    .filter(([, v]) => v)
    .map(([k]) => k);
  if (cut.length > 0) out.push('', `note: the server listed only part of: ${cut.join(', ')} (narrow the period)`);
  return out.join('\n') + '\n';
}

export const reportCommand: CliCommand = {
  words: ['report'],
  summary: 'Audit report over a period: callers, denials, redactions, alerts, certificates, policy changes',
  usesApi: true,
  options: {
    ...CONNECTION_OPTIONS,
    since: { type: 'string' },
    until: { type: 'string' },
    format: { type: 'string' },
    output: { type: 'string', short: 'o' },
    rows: { type: 'string' },
  },
  help: `usage: meshward report [--since <time|duration>] [--until <time|duration>] [--format text|json|html] [-o <file>]

Summarises a period for regular audits (GET /v1/reports): who called which model, what was
denied (RBAC, mTLS, rate limits), what was redacted or blocked (findings per detector), alerts,
certificate and CA events, policy changes, time-window switches and rollout activity.

Flags:
  --since <t>        start of the period (inclusive): an RFC 3339 time (2026-03-01T00:00:00Z),
                     a date (2026-03-01, midnight UTC) or a duration before now (7d, 24h).
                     Default: 24 h before --until
  --until <t>        end of the period (exclusive), same forms. Default: now
  --format <f>       text (default: summary tables), json (the full report) or html (a
                     self-contained page for auditors)
  -o, --output <f>   write to this file (0600) instead of standard output
  --rows <N>         text: rows shown per section (default 20, max 10000)

${CONNECTION_HELP}

Examples:
  meshward report --since 7d
  meshward report --since 2026-03-01 --until 2026-04-01 --format html -o march.html`,
  async run(positionals, flags, io: CliIo) {
    if (positionals.length > 0) throw CliError.usage(`report: unexpected argument "${positionals[0]!}"`);
    const format = (stringFlag(flags, 'format') ?? 'text') as ReportFormat;
    if (!FORMATS.includes(format)) throw CliError.usage(`--format: must be one of ${FORMATS.join(', ')}, got "${String(stringFlag(flags, 'format'))}"`);
    const rowsRaw = stringFlag(flags, 'rows') ?? '20';
    const rows = Number(rowsRaw);
    if (!Number.isInteger(rows) || rows < 1 || rows > 10_000) throw CliError.usage(`--rows: must be an integer from 1 to 10000, got "${rowsRaw}"`);
    const now = Date.now();
    const query: Record<string, string> = {};
    for (const bound of ['since', 'until'] as const) {
      const raw = stringFlag(flags, bound);
      if (raw !== undefined) query[bound] = periodBound(bound, raw, now);
    }
    if (query['since'] !== undefined && query['until'] !== undefined && Date.parse(query['since']) >= Date.parse(query['until'])) {
      throw CliError.usage(`--since: ${query['since']} must be before --until ${query['until']}`);
    }
    const output = stringFlag(flags, 'output');
    const client = createApiClient(resolveConnection(flags, io), io.fetch);
    const html = format === 'html';
    const res = await client.request('GET', `/v1/reports?${new URLSearchParams({ ...query, format: html ? 'html' : 'json' }).toString()}`, html ? { headers: { accept: 'text/html' } } : {});
    let text: string;
    if (html) {
      if (typeof res.body !== 'string' || !/^\s*<!doctype html/i.test(res.body)) throw new CliError('API', 'the control plane did not answer with an HTML report');
      text = res.body;
    } else {
      const report = res.body as AuditReport;
      if (report === null || typeof report !== 'object' || typeof report.totals !== 'object') throw new CliError('API', 'the control plane did not answer with a report');
      text = format === 'json' ? JSON.stringify(report, null, 2) + '\n' : formatReportText(report, rows);
    }
    if (output === undefined) {
      io.stdout.write(text);
      return 0;
    }
    const path = resolve(io.cwd, output);
    try {
      writeFileSync(path, text, { mode: 0o600 });
    } catch (err) {
      throw CliError.usage(`--output: cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    io.stderr.write(`wrote the ${format} report to ${path}\n`);
    return 0;
  },
};
