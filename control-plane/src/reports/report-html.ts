/**
 * A self-contained, readable HTML page of an {@link AuditReport} (no scripts, no external assets;
 * every value is escaped), for auditors who open it in a browser or attach it to a ticket.
 */
import type { AuditReport, CallerRow, ReportAuditItem } from './audit-report.js';

const esc = (v: unknown): string =>
  String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const n = (v: number): string => v.toLocaleString('en-US');
const findings = (f: Readonly<Record<string, number>>): string =>
  Object.entries(f)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${esc(k)}&nbsp;${n(v)}`)
    .join(', ') || '—';

function table(headers: readonly string[], rows: readonly (readonly string[])[], empty: string): string {
  if (rows.length === 0) return `<p class="empty">${esc(empty)}</p>`;
  return `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const auditRows = (items: readonly ReportAuditItem[]): string[][] =>
  items.map((e) => [esc(e.at), esc(e.actor), esc(e.action), esc(e.kind), esc(e.name), esc(e.revision ?? ''), esc(e.reason ?? '')]);
const AUDIT_HEADERS = ['When (UTC)', 'Actor', 'Action', 'Kind', 'Name', 'Revision', 'Reason'];

export function renderReportHtml(r: AuditReport): string {
  const t = r.totals;
  const callRows = (rows: readonly CallerRow[]): string[][] =>
    rows.map((c) => [esc(c.identity), esc(c.model || '—'), esc(c.versions.join(', ') || '—'), n(c.requests), n(c.deniedRbac + c.deniedMtls), n(c.rateLimited), n(c.errors), n(c.dlpRedacted), n(c.dlpBlocked), findings(c.findings)]);
  const callHeaders = ['Caller identity', 'Model', 'Versions', 'Requests', 'Denied', 'Rate-limited', '5xx', 'Redacted', 'Blocked', 'Findings'];
  const note = (b: boolean, what: string): string => (b ? `<p class="note">Only the first ${esc(what)} are listed.</p>` : '');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>meshward audit report ${esc(r.period.since)} – ${esc(r.period.until)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1f24}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td{font-variant-numeric:tabular-nums}.empty,.note{color:#57606a}.kpi{display:flex;gap:1rem;flex-wrap:wrap}
.kpi div{border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1rem}.kpi b{display:block;font-size:1.3rem}
</style></head><body>
<h1>meshward audit report</h1>
<p>Period <b>${esc(r.period.since)}</b> to <b>${esc(r.period.until)}</b> (UTC) · generated ${esc(r.generatedAt)}</p>
<div class="kpi">
<div><b>${n(t.requests)}</b>requests</div><div><b>${n(t.callers)}</b>callers</div><div><b>${n(t.models)}</b>models</div>
<div><b>${n(t.deniedRbac)}</b>denied by policy</div><div><b>${n(t.deniedMtls)}</b>failed mTLS</div><div><b>${n(t.rateLimited)}</b>rate-limited</div>
<div><b>${n(t.dlpRedacted)}</b>redacted</div><div><b>${n(t.dlpBlocked)}</b>blocked</div><div><b>${n(r.alerts.fired)}</b>alerts</div>
</div>
<p>Findings by detector: ${findings(t.findings)}</p>
<h2>Who called which model</h2>${table(callHeaders, callRows(r.calls), 'No calls in this period.')}${note(r.truncated.calls, 'busiest callers')}
<h2>Denied calls</h2>${table(callHeaders, callRows(r.denied), 'Nothing was denied.')}
<h2>Redacted or blocked data</h2>${table(callHeaders, callRows(r.dataProtection), 'The filter alerted, redacted and blocked nothing.')}
<h2>Alerts</h2>${table(
    ['Fired (UTC)', 'Rule', 'Severity', 'Series', 'State', 'Summary'],
    r.alerts.items.map((a) => [esc(a.firedAt), esc(a.rule), esc(a.severity), `${esc(a.dimension)} ${esc(a.key)}`, esc(a.state + (a.resolvedAt === undefined ? '' : ` ${a.resolvedAt}`)), esc(a.summary)]),
    'No alerts fired.',
  )}${note(r.truncated.alerts, 'alerts')}
<h2>Certificates and rotations</h2>${table(AUDIT_HEADERS, auditRows(r.certificates), 'No certificate events.')}
<h2>Policy changes</h2>${table(AUDIT_HEADERS, auditRows(r.policyChanges), 'No policy changes.')}
<h2>Authorization time windows</h2>${table(AUDIT_HEADERS, auditRows(r.timeWindowSwitches), 'No time window opened or closed.')}
<h2>Rollouts</h2>${table(AUDIT_HEADERS, auditRows(r.rollouts), 'No rollout activity.')}${note(r.truncated.audit, 'audit entries')}
</body></html>
`;
}
