/**
 * Per-minute rollups of calls (who called which model and version, with what outcome), kept in the
 * control plane's database for audit reports over days or months — the signal engine only keeps
 * its sliding window.
 *
 * Contract:
 * - `add()` aggregates in memory, keyed by (minute of the record's start time — ingestion time
 *   when Envoy sent none —, identity, model, version); `flush()` upserts the aggregates in one
 *   transaction (counts add up across flushes). The owner flushes on a timer and at shutdown.
 * - Bounded: at most `maxPendingKeys` keys between flushes; further keys aggregate under identity
 *   `~other` (counted in `stats().overflow`), so totals stay right and memory stays flat.
 */
import type Database from 'better-sqlite3';
import type { AccessRecord } from '../telemetry/access-record.js';

export interface Rollup {
  readonly minute: number;
  readonly identity: string;
  readonly model: string;
  readonly version: string;
  requests: number;
  deniedRbac: number;
  deniedMtls: number;
  rateLimited: number;
  errors: number;
  dlpAlerted: number;
  dlpRedacted: number;
  dlpBlocked: number;
  findings: Record<string, number>;
  requestBytes: number;
  responseBytes: number;
  tokensInput: number;
  tokensOutput: number;
}

export interface CallRollups {
  add(records: readonly AccessRecord[]): void;
  flush(): number;
  /** Rollups with minute in [sinceMs, untilMs), pending ones included. */
  query(sinceMs: number, untilMs: number): Rollup[];
  stats(): { pendingKeys: number; flushedRows: number; overflow: number };
}

interface Row {
  minute: number;
  identity: string;
  model: string;
  version: string;
  requests: number;
  denied_rbac: number;
  denied_mtls: number;
  rate_limited: number;
  errors: number;
  dlp_alerted: number;
  dlp_redacted: number;
  dlp_blocked: number;
  findings: string;
  request_bytes: number;
  response_bytes: number;
  tokens_input: number;
  tokens_output: number;
}

const empty = (minute: number, identity: string, model: string, version: string): Rollup => ({
  minute,
  identity,
  model,
  version,
  requests: 0,
  deniedRbac: 0,
  deniedMtls: 0,
  rateLimited: 0,
  errors: 0,
  dlpAlerted: 0,
  dlpRedacted: 0,
  dlpBlocked: 0,
  findings: {},
  requestBytes: 0,
  responseBytes: 0,
  tokensInput: 0,
  tokensOutput: 0,
});

export function mergeRollup(into: Rollup, r: Rollup): void {
  into.requests += r.requests;
  into.deniedRbac += r.deniedRbac;
  into.deniedMtls += r.deniedMtls;
  into.rateLimited += r.rateLimited;
  into.errors += r.errors;
  into.dlpAlerted += r.dlpAlerted;
  into.dlpRedacted += r.dlpRedacted;
  into.dlpBlocked += r.dlpBlocked;
  for (const [k, v] of Object.entries(r.findings)) into.findings[k] = (into.findings[k] ?? 0) + v;
  into.requestBytes += r.requestBytes;
  into.responseBytes += r.responseBytes;
  into.tokensInput += r.tokensInput;
  into.tokensOutput += r.tokensOutput;
}

export function createCallRollups(options: { database: Database.Database; now: () => number; maxPendingKeys?: number }): CallRollups {
  const db = options.database;
  const maxKeys = options.maxPendingKeys ?? 50_000;
  let pending = new Map<string, Rollup>();
  let flushedRows = 0;
  let overflow = 0;
  const upsert = db.prepare(`
    INSERT INTO call_rollups (minute, identity, model, version, requests, denied_rbac, denied_mtls, rate_limited, errors, dlp_alerted, dlp_redacted, dlp_blocked, findings, request_bytes, response_bytes, tokens_input, tokens_output)
    VALUES (@minute, @identity, @model, @version, @requests, @denied_rbac, @denied_mtls, @rate_limited, @errors, @dlp_alerted, @dlp_redacted, @dlp_blocked, @findings, @request_bytes, @response_bytes, @tokens_input, @tokens_output)
    ON CONFLICT (minute, identity, model, version) DO UPDATE SET
      requests = requests + excluded.requests, denied_rbac = denied_rbac + excluded.denied_rbac, denied_mtls = denied_mtls + excluded.denied_mtls,
      rate_limited = rate_limited + excluded.rate_limited, errors = errors + excluded.errors, dlp_alerted = dlp_alerted + excluded.dlp_alerted,
      dlp_redacted = dlp_redacted + excluded.dlp_redacted, dlp_blocked = dlp_blocked + excluded.dlp_blocked, findings = excluded.findings,
      request_bytes = request_bytes + excluded.request_bytes, response_bytes = response_bytes + excluded.response_bytes,
      tokens_input = tokens_input + excluded.tokens_input, tokens_output = tokens_output + excluded.tokens_output`);
  const getFindings = db.prepare<[number, string, string, string], { findings: string }>('SELECT findings FROM call_rollups WHERE minute = ? AND identity = ? AND model = ? AND version = ?');

  const flushTx = db.transaction((rows: Rollup[]) => {
    for (const r of rows) {
      // Findings are a JSON map: merge with what the row already holds.
      const prev = getFindings.get(r.minute, r.identity, r.model, r.version);
      const findings = { ...r.findings };
      if (prev !== undefined) for (const [k, v] of Object.entries(JSON.parse(prev.findings) as Record<string, number>)) findings[k] = (findings[k] ?? 0) + v;
      upsert.run({
        minute: r.minute,
        identity: r.identity,
        model: r.model,
        version: r.version,
        requests: r.requests,
        denied_rbac: r.deniedRbac,
        denied_mtls: r.deniedMtls,
        rate_limited: r.rateLimited,
        errors: r.errors,
        dlp_alerted: r.dlpAlerted,
        dlp_redacted: r.dlpRedacted,
        dlp_blocked: r.dlpBlocked,
        findings: JSON.stringify(findings),
        request_bytes: Math.round(r.requestBytes),
        response_bytes: Math.round(r.responseBytes),
        tokens_input: Math.round(r.tokensInput),
        tokens_output: Math.round(r.tokensOutput),
      });
    }
  });

  const fromRow = (r: Row): Rollup => ({
    minute: r.minute,
    identity: r.identity,
    model: r.model,
    version: r.version,
    requests: r.requests,
    deniedRbac: r.denied_rbac,
    deniedMtls: r.denied_mtls,
    rateLimited: r.rate_limited,
    errors: r.errors,
    dlpAlerted: r.dlp_alerted,
    dlpRedacted: r.dlp_redacted,
    dlpBlocked: r.dlp_blocked,
    findings: JSON.parse(r.findings) as Record<string, number>,
    requestBytes: r.request_bytes,
    responseBytes: r.response_bytes,
    tokensInput: r.tokens_input,
    tokensOutput: r.tokens_output,
  });

  return {
    add(records) {
      const fallback = Math.floor(options.now() / 60_000);
      for (const rec of records) {
        const minute = rec.startMs > 0 ? Math.floor(rec.startMs / 60_000) : fallback;
        let identity = rec.identity;
        let key = `${minute}\u0000${identity}\u0000${rec.model}\u0000${rec.version}`;
        let r = pending.get(key);
        if (r === undefined) {
          if (pending.size >= maxKeys) {
            overflow++;
            identity = '~other';
            key = `${minute}\u0000${identity}\u0000${rec.model}\u0000${rec.version}`;
            r = pending.get(key);
          }
          if (r === undefined) {
            r = empty(minute, identity, rec.model, rec.version);
            pending.set(key, r);
          }
        }
        if (rec.kind === 'http') r.requests++;
        if (rec.denied === 'rbac') r.deniedRbac++;
        else if (rec.denied === 'mtls') r.deniedMtls++;
        if (rec.rateLimited) r.rateLimited++;
        if (rec.responseCode >= 500) r.errors++;
        if (rec.dlp !== undefined) {
          if (rec.dlp.outcome === 'alert') r.dlpAlerted++;
          else if (rec.dlp.outcome === 'redact') r.dlpRedacted++;
          else if (rec.dlp.outcome === 'block') r.dlpBlocked++;
          for (const id in rec.dlp.findings) r.findings[id] = (r.findings[id] ?? 0) + rec.dlp.findings[id]!;
        }
        r.requestBytes += rec.requestBytes;
        r.responseBytes += rec.responseBytes;
        if (rec.tokens !== undefined) {
          r.tokensInput += rec.tokens.input;
          r.tokensOutput += rec.tokens.output;
        }
      }
    },
    flush() {
      if (pending.size === 0) return 0;
      const rows = [...pending.values()];
      pending = new Map();
      flushTx(rows);
      flushedRows += rows.length;
      return rows.length;
    },
    query(sinceMs, untilMs) {
      const lo = Math.floor(sinceMs / 60_000);
      const hi = Math.ceil(untilMs / 60_000);
      const rows = db.prepare<[number, number], Row>('SELECT * FROM call_rollups WHERE minute >= ? AND minute < ?').all(lo, hi).map(fromRow);
      const byKey = new Map(rows.map((r) => [`${r.minute}\u0000${r.identity}\u0000${r.model}\u0000${r.version}`, r]));
      for (const [k, p] of pending) {
        if (p.minute < lo || p.minute >= hi) continue;
        const have = byKey.get(k);
        if (have === undefined) byKey.set(k, { ...p, findings: { ...p.findings } });
        else mergeRollup(have, p);
      }
      return [...byKey.values()];
    },
    stats: () => ({ pendingKeys: pending.size, flushedRows, overflow }),
  };
}
