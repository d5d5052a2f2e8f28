/**
 * `meshward report` against a real control plane (createControlPlane, its closed loop fed with
 * access records): text, JSON and HTML over GET /v1/reports, period flags, and usage errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { periodBound } from '../../../control-plane/src/cli/report-command.js';
import { accessRecord } from '../../../control-plane/src/telemetry/access-record.js';
import { startCliHarness, type CliHarness } from './cli-harness.js';

const TD = 'spiffe://meshward.local';
let h: CliHarness;

beforeAll(async () => {
  h = await startCliHarness();
  const now = Date.now();
  h.cp.closedLoop.ingest([
    ...Array.from({ length: 7 }, () => accessRecord({ startMs: now, identity: `${TD}/ns/apps/sa/chatbot`, model: 'chat', version: 'v1', upstreamCluster: 'model|chat|v1', responseBytes: 1000 })),
    accessRecord({ startMs: now, identity: `${TD}/ns/apps/sa/chatbot`, model: 'chat', version: 'v1', upstreamCluster: 'model|chat|v1', dlp: { outcome: 'redact', findings: { email: 2 } } }),
    ...Array.from({ length: 3 }, () => accessRecord({ startMs: now, identity: `${TD}/ns/apps/sa/intruder`, model: 'chat', responseCode: 403, denied: 'rbac' })),
  ]);
});
afterAll(() => h?.close());

describe('meshward report', () => {
  it('prints the summary tables by default: totals, calls, denials, data protection', async () => {
    const r = await h.run(['report']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^meshward audit report {2}\S+ → \S+/);
    expect(r.stdout).toMatch(/requests 11 from 2 caller\(s\) to 1 model\(s\); denied: RBAC 3, mTLS 0, rate-limited 0; errors 0; DLP: alerted 0, redacted 1, blocked 0/);
    expect(r.stdout).toMatch(/^Calls\n {2}IDENTITY +MODEL +VERSIONS +REQUESTS/m);
    expect(r.stdout).toMatch(new RegExp(`^ {2}${TD}/ns/apps/sa/chatbot +chat +v1 +8 `, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^Denied\\n.*\\n {2}${TD}/ns/apps/sa/intruder +chat +3 +0 +0$`, 'm'));
    expect(r.stdout).toMatch(/^Data protection\n.*\n {2}\S+chatbot +chat +0 +1 +0 +email:2$/m);
    expect(r.stdout).toMatch(/^Time-window switches\n {2}\(none\)$/m);
    // --rows limits each section
    expect((await h.run(['report', '--rows', '1'])).stdout).toMatch(/^Calls \(first 1 of 2\)$/m);
  });

  it('--format json prints the whole report; --since/--until accept times, dates and durations', async () => {
    const r = await h.run(['report', '--format', 'json', '--since', '1h']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.totals).toMatchObject({ requests: 11, deniedRbac: 3, dlpRedacted: 1, callers: 2 });
    expect(Date.parse(report.period.until) - Date.parse(report.period.since)).toBeGreaterThan(3_590_000);
    expect(Date.parse(report.period.until) - Date.parse(report.period.since)).toBeLessThan(3_610_000);
    // a period before any traffic
    const empty = JSON.parse((await h.run(['report', '--format', 'json', '--since', '2020-01-01', '--until', '2020-01-02T00:00:00Z'])).stdout);
    expect(empty.period).toEqual({ since: '2020-01-01T00:00:00.000Z', until: '2020-01-02T00:00:00.000Z' });
    expect(empty.totals.requests).toBe(0);
  });

  it('--format html -o writes the auditors\' page to a 0600 file', async () => {
    const r = await h.run(['report', '--format', 'html', '-o', 'report.html']);
    expect(r.code).toBe(0);
    const path = join(h.workDir, 'report.html');
    expect(r.stderr).toBe(`wrote the html report to ${path}\n`);
    const html = readFileSync(path, 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain(`${TD}/ns/apps/sa/intruder`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it.each([
    [['report', '--format', 'pdf'], 2, /--format: must be one of text, json, html, got "pdf"/],
    [['report', '--since', 'yesterday'], 2, /--since: "yesterday" must be an RFC 3339 time/],
    [['report', '--until', '2026-03-01T10:00:00'], 2, /--until: "2026-03-01T10:00:00" must be an RFC 3339 time/],
    [['report', '--since', '1d', '--until', '2d'], 2, /--since: \S+ must be before --until/],
    [['report', '--rows', '0'], 2, /--rows: must be an integer from 1 to 10000/],
    [['report', 'extra'], 2, /report: unexpected argument "extra"/],
    [['report', '--since', '2020-01-01', '--until', '2021-06-01'], 1, /400 .*since.*366 days/s],
  ] as const)('%j exits %i', async (args, code, message) => {
    const r = await h.run(args);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
  });

  it('periodBound: durations count back from now', () => {
    const now = Date.parse('2026-03-10T12:00:00Z');
    expect(periodBound('since', '7d', now)).toBe('2026-03-03T12:00:00.000Z');
    expect(periodBound('since', '1h30m', now)).toBe('2026-03-10T10:30:00.000Z');
    expect(periodBound('until', '2026-03-01T01:00:00+01:00', now)).toBe('2026-03-01T00:00:00.000Z');
  });
});
