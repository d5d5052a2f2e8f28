/**
 * One request (or connection) as the closed loop sees it: the plain, protobuf-free form every
 * consumer (signals, rollups, reports, rollout guards) works on. Built from Envoy's gRPC access
 * log entries by decode-entry.ts; tests and tools may build them directly.
 */

/** The filter's verdict for a request, from the `wasm.meshward.summary` filter state (docs/filter.md). */
export type DlpOutcome = 'allow' | 'alert' | 'redact' | 'block';
export const DLP_OUTCOMES: readonly DlpOutcome[] = ['allow', 'alert', 'redact', 'block'];

export interface DlpSummary {
  /** The stronger of both directions' outcomes. */
  readonly outcome: DlpOutcome;
  /** Findings per detector id, both directions added. */
  readonly findings: Readonly<Record<string, number>>;
}

/** Why a call was refused before it reached a model. */
export type DenialKind = 'rbac' | 'mtls';

export interface AccessRecord {
  /** Start of the request, ms since the epoch (Envoy's start_time; 0 when absent). */
  readonly startMs: number;
  /** Envoy node id from the stream's identifier ('' when the stream sent none). */
  readonly nodeId: string;
  /** `http` for HTTP access log entries, `tcp` for connection-level ones (TLS handshake failures). */
  readonly kind: 'http' | 'tcp';
  /** The caller: the peer certificate's URI SAN (a SPIFFE ID), else `anonymous`. */
  readonly identity: string;
  /** Envoy route name ('' when unnamed). */
  readonly route: string;
  readonly method: string;
  readonly path: string;
  /** The model service (from the upstream cluster `model|<model>|<version>`, else the model header); '' if unknown. */
  readonly model: string;
  /** The model version (from the cluster, else the pin header); '' if unknown. */
  readonly version: string;
  readonly upstreamCluster: string;
  /** HTTP status sent downstream; 0 when none was sent (reset, TCP entry). */
  readonly responseCode: number;
  /** Set when the call was refused by authorization (RBAC 403) or the TLS handshake failed. */
  readonly denied: DenialKind | undefined;
  /** The RBAC dry-run (shadow) rules would have denied it. */
  readonly shadowDenied: boolean;
  /** Refused by a rate limit or a token budget (429 / Envoy's RL flag). */
  readonly rateLimited: boolean;
  readonly requestBytes: number;
  readonly responseBytes: number;
  /** Total duration (Envoy's `duration`, else time to last downstream byte), ms; 0 when unknown. */
  readonly latencyMs: number;
  /** The filter's summary; undefined when the filter did not run (or the entry lacks it). */
  readonly dlp: DlpSummary | undefined;
  /** Token counts the filter reported (issue 9), when present. */
  readonly tokens: { readonly input: number; readonly output: number } | undefined;
}

/** An AccessRecord with the defaults filled in, for tests and tools. */
export function accessRecord(partial: Partial<AccessRecord>): AccessRecord {
  return {
    startMs: 0,
    nodeId: '',
    kind: 'http',
    identity: 'anonymous',
    route: '',
    method: 'POST',
    path: '/',
    model: '',
    version: '',
    upstreamCluster: '',
    responseCode: 200,
    denied: undefined,
    shadowDenied: false,
    rateLimited: false,
    requestBytes: 0,
    responseBytes: 0,
    latencyMs: 0,
    dlp: undefined,
    tokens: undefined,
    ...partial,
  };
}
