/**
 * Pure mapping from Envoy's gRPC access log entries (envoy.data.accesslog.v3) to
 * {@link AccessRecord}s. No I/O; table-tested.
 *
 * Where each field comes from (the listeners translate/ generates log with `logName: meshward`,
 * the filter state `wasm.meshward.summary` and the model headers):
 * - identity: the first URI SAN of the downstream peer certificate (a SPIFFE ID), else `anonymous`.
 * - model / version: the upstream cluster `model|<model>|<version>`; when the request never reached
 *   one (denied, rate-limited, blocked) the `x-meshward-model` / `x-meshward-model-version` request
 *   headers the access log carries.
 * - denied `rbac`: response code details `rbac_access_denied*` (Envoy's RBAC filter), or a 403 with
 *   the `unauthorized_details` response flag; `shadowDenied`: the RBAC filter's dynamic metadata
 *   `*shadow_engine_result` = `denied` (dry-run rules).
 * - denied `mtls`: a non-empty `downstream_transport_failure_reason` (TLS handshake refused: no or
 *   an untrusted client certificate), which Envoy reports on connection-level (TCP) entries.
 * - rateLimited: the `RL` response flag, details `local_rate_limited`, or any 429 (token budgets).
 * - dlp / tokens: the filter state, packed by Envoy as a google.protobuf.BytesValue (or StringValue)
 *   holding the filter's JSON (docs/filter.md); a malformed summary is ignored (counted by the caller).
 */
import { fromBinary } from '@bufbuild/protobuf';
import { BytesValueSchema, StringValueSchema, type Any, type Duration, type Timestamp } from '@bufbuild/protobuf/wkt';
import type { AccessLogCommon, HTTPAccessLogEntry, TCPAccessLogEntry } from '../gen/envoy/data/accesslog/v3/accesslog_pb.js';
import { RequestMethod } from '../gen/envoy/config/core/v3/base_pb.js';
import type { AccessRecord, DlpOutcome, DlpSummary } from './access-record.js';

/** Filter state key of the meshward filter's summary (translate/names.ts FILTER_STATE_SUMMARY). */
export const SUMMARY_KEY = 'wasm.meshward.summary';
const MODEL_HEADER = 'x-meshward-model';
const VERSION_HEADER = 'x-meshward-model-version';
const RBAC_METADATA = 'envoy.filters.http.rbac';

const durationMs = (d: Duration | undefined): number => (d === undefined ? 0 : Number(d.seconds) * 1000 + d.nanos / 1e6);
const timestampMs = (t: Timestamp | undefined): number => (t === undefined ? 0 : Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6));

function identityOf(common: AccessLogCommon | undefined): string {
  const sans = common?.tlsProperties?.peerCertificateProperties?.subjectAltName;
  if (sans !== undefined) {
    for (const san of sans) if (san.san.case === 'uri' && san.san.value !== '') return san.san.value;
  }
  return 'anonymous';
}

/** `model|<model>|<version>` → [model, version]; anything else → undefined. */
export function parseModelCluster(cluster: string): [string, string] | undefined {
  if (!cluster.startsWith('model|')) return undefined;
  const rest = cluster.slice(6);
  const bar = rest.indexOf('|');
  if (bar <= 0 || bar === rest.length - 1) return undefined;
  return [rest.slice(0, bar), rest.slice(bar + 1)];
}

const OUTCOME_RANK: Readonly<Record<DlpOutcome, number>> = { allow: 0, alert: 1, redact: 2, block: 3 };
const isOutcome = (v: unknown): v is DlpOutcome => typeof v === 'string' && Object.hasOwn(OUTCOME_RANK, v);

/** Text of a filter state object as Envoy packs it (BytesValue / StringValue), else the raw bytes. */
export function filterStateText(any: Any): string {
  const decoder = new TextDecoder();
  if (any.typeUrl.endsWith('/google.protobuf.BytesValue')) return decoder.decode(fromBinary(BytesValueSchema, any.value).value);
  if (any.typeUrl.endsWith('/google.protobuf.StringValue')) return fromBinary(StringValueSchema, any.value).value;
  return decoder.decode(any.value);
}

/**
 * Parses the filter's summary JSON. Returns undefined for anything that is not a summary (the
 * caller counts it); unknown extra members are ignored so the filter can add fields.
 */
export function parseSummary(text: string): { dlp: DlpSummary; tokens: AccessRecord['tokens'] } | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || !isOutcome((doc as { outcome?: unknown }).outcome)) return undefined;
  const d = doc as Record<string, unknown>;
  const findings: Record<string, number> = {};
  let outcome = d['outcome'] as DlpOutcome;
  for (const dir of ['request', 'response'] as const) {
    const part = d[dir];
    if (typeof part !== 'object' || part === null) continue;
    const p = part as Record<string, unknown>;
    if (isOutcome(p['outcome']) && OUTCOME_RANK[p['outcome']] > OUTCOME_RANK[outcome]) outcome = p['outcome'];
    const f = p['findings'];
    if (typeof f !== 'object' || f === null) continue;
    for (const [id, n] of Object.entries(f)) {
      if (typeof n === 'number' && Number.isFinite(n) && n > 0) findings[id] = (findings[id] ?? 0) + n;
    }
  }
  const t = d['tokens'];
  let tokens: AccessRecord['tokens'];
  if (typeof t === 'object' && t !== null) {
    const input = Number((t as Record<string, unknown>)['input'] ?? 0);
    const output = Number((t as Record<string, unknown>)['output'] ?? 0);
    if (Number.isFinite(input) && Number.isFinite(output)) tokens = { input, output };
  }
  return { dlp: { outcome, findings }, tokens };
}

function shadowDenied(common: AccessLogCommon | undefined): boolean {
  const rbac = common?.metadata?.filterMetadata[RBAC_METADATA];
  if (rbac === undefined) return false;
  // google.protobuf.Struct is a plain JSON object in protobuf-es.
  for (const [k, v] of Object.entries(rbac)) {
    if (k.endsWith('shadow_engine_result') && v === 'denied') return true;
  }
  return false;
}

export interface DecodeCounters {
  /** Summaries present but not parseable. */
  badSummaries: number;
}

export function recordFromHttpEntry(entry: HTTPAccessLogEntry, nodeId: string, counters?: DecodeCounters): AccessRecord {
  const common = entry.commonProperties;
  const req = entry.request;
  const res = entry.response;
  const cluster = common?.upstreamCluster ?? '';
  const mv = parseModelCluster(cluster);
  const headers = req?.requestHeaders ?? {};
  const code = res?.responseCode ?? 0;
  const details = res?.responseCodeDetails ?? '';
  const flags = common?.responseFlags;
  let denied: AccessRecord['denied'];
  if (details.startsWith('rbac_access_denied') || (code === 403 && flags?.unauthorizedDetails !== undefined)) denied = 'rbac';
  else if ((common?.downstreamTransportFailureReason ?? '') !== '') denied = 'mtls';
  let dlp: DlpSummary | undefined;
  let tokens: AccessRecord['tokens'];
  const state = common?.filterStateObjects[SUMMARY_KEY];
  if (state !== undefined) {
    let parsed: ReturnType<typeof parseSummary>;
    try {
      parsed = parseSummary(filterStateText(state));
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined) {
      if (counters !== undefined) counters.badSummaries++;
    } else {
      dlp = parsed.dlp;
      tokens = parsed.tokens;
    }
  }
  const duration = durationMs(common?.duration);
  return {
    startMs: timestampMs(common?.startTime),
    nodeId,
    kind: 'http',
    identity: identityOf(common),
    route: common?.routeName ?? '',
    method: req === undefined || req.requestMethod === RequestMethod.METHOD_UNSPECIFIED ? '' : (RequestMethod[req.requestMethod] ?? ''),
    path: req?.path ?? '',
    model: mv?.[0] ?? headers[MODEL_HEADER] ?? '',
    version: mv?.[1] ?? headers[VERSION_HEADER] ?? '',
    upstreamCluster: cluster,
    responseCode: code,
    denied,
    shadowDenied: shadowDenied(common),
    rateLimited: flags?.rateLimited === true || details === 'local_rate_limited' || code === 429,
    requestBytes: Number(req?.requestBodyBytes ?? 0n),
    responseBytes: Number(res?.responseBodyBytes ?? 0n),
    latencyMs: duration > 0 ? duration : durationMs(common?.timeToLastDownstreamTxByte),
    dlp,
    tokens,
  };
}

/**
 * Connection-level entries matter to the loop only when the TLS handshake failed (a caller without
 * a valid mesh certificate): those become `denied: 'mtls'` records. Returns undefined otherwise.
 */
export function recordFromTcpEntry(entry: TCPAccessLogEntry, nodeId: string): AccessRecord | undefined {
  const common = entry.commonProperties;
  if ((common?.downstreamTransportFailureReason ?? '') === '') return undefined;
  return {
    startMs: timestampMs(common?.startTime),
    nodeId,
    kind: 'tcp',
    identity: identityOf(common),
    route: '',
    method: '',
    path: '',
    model: '',
    version: '',
    upstreamCluster: common?.upstreamCluster ?? '',
    responseCode: 0,
    denied: 'mtls',
    shadowDenied: false,
    rateLimited: false,
    requestBytes: Number(entry.connectionProperties?.receivedBytes ?? 0n),
    responseBytes: Number(entry.connectionProperties?.sentBytes ?? 0n),
    latencyMs: durationMs(common?.duration),
    dlp: undefined,
    tokens: undefined,
  };
}
