/**
 * An AI model served by the mesh: named versions (each a set of endpoints with a traffic weight)
 * and how requests are routed to it.
 *
 * Routing contract (gateway and proxyless clients):
 * - A request is for this model when its path starts with one of `pathPrefixes` AND the header
 *   {@link MODEL_HEADER} equals one of `modelNames`, or when its path starts with one of
 *   `dedicatedPathPrefixes` (no header needed; e.g. KServe's `/v2/models/<name>/`).
 * - The model header is set by the client (OpenAI SDKs: `default_headers`) or an edge in front of
 *   the mesh. Envoy chooses the route from the request headers, before any body is read, so the
 *   meshward filter cannot route on the body's `model` field; instead it checks that the body's
 *   `model` agrees with the header and rejects a mismatch, so the header cannot be used to get
 *   around a model's routes, authorization or DLP policy.
 * - {@link VERSION_HEADER} with a version name pins that version (bypassing the weights), for tests
 *   and canary checks; an unknown version value falls through to the weighted split.
 */

/** Header naming the requested model; matched against `modelNames`. */
export const MODEL_HEADER = 'x-meshward-model';
/** Header pinning a version by name (ModelVersion.name). */
export const VERSION_HEADER = 'x-meshward-model-version';

/** Application protocol between the proxy and the model servers. */
export type ModelProtocol = 'http1' | 'http2' | 'grpc';
export const MODEL_PROTOCOLS: readonly ModelProtocol[] = ['http1', 'http2', 'grpc'];

/** Upstream TLS towards a version's endpoints. `MUTUAL`: mesh mTLS (SDS certs); `DISABLE`: plaintext. */
export type UpstreamTlsMode = 'MUTUAL' | 'DISABLE';

export interface Locality {
  readonly region?: string;
  readonly zone?: string;
  readonly subZone?: string;
}

export interface ModelEndpoint {
  /**
   * IPv4 or IPv6 literal, or a DNS hostname. A version whose endpoints are all IP literals is served
   * by EDS; one with a hostname becomes a STRICT_DNS cluster in Envoy (proxyless gRPC clients need
   * IP literals).
   */
  readonly address: string;
  /** 1..65535. */
  readonly port: number;
  /** Load-balancing weight within the version, 1..128. Defaults to 1. */
  readonly weight?: number;
  readonly locality?: Locality;
}

export interface ModelVersion {
  /** Unique within the model; `[a-z0-9]([-a-z0-9._]*[a-z0-9])?`, max 63. Also the pin header value. */
  readonly name: string;
  /**
   * Percentage of the model's traffic, integer 0..100. The weights of a model's versions sum to 100
   * (a single version may omit its weight: it then takes 100).
   */
  readonly weight?: number;
  /** At least one. */
  readonly endpoints: readonly ModelEndpoint[];
  /**
   * SPIFFE IDs the version's servers (usually their sidecars) present; the proxy verifies the peer's
   * URI SAN against them. Absent: the identities of the workloads whose `serves` names this version,
   * or, if there are none, any identity of the mesh's trust domain.
   */
  readonly identities?: readonly string[];
  /** Defaults to `MUTUAL` (mesh mTLS to the version's sidecars). */
  readonly upstreamTls?: UpstreamTlsMode;
}

export interface RetryPolicy {
  /** Retries after the first attempt, 0..10. Defaults to 2. */
  readonly attempts?: number;
  /** Per-attempt timeout in ms; absent means the route timeout applies to each attempt. */
  readonly perTryTimeoutMs?: number;
  /**
   * Envoy `retry_on` conditions. Defaults to `connect-failure,refused-stream,unavailable,
   * cancelled,reset-before-request` (safe for non-idempotent inference: nothing was processed).
   */
  readonly retryOn?: readonly string[];
  /** Status codes retried when `retryOn` contains `retriable-status-codes`. */
  readonly retriableStatusCodes?: readonly number[];
}

export interface ModelService {
  /**
   * Unique in the mesh; `[a-z0-9]([-a-z0-9._]*[a-z0-9])?`, max 63. Cluster names derive from it,
   * and proxyless gRPC clients dial `xds:///<name>`.
   */
  readonly name: string;
  /** Values of {@link MODEL_HEADER} that select this model, e.g. `gpt-4o-mini`. Defaults to `[name]`. */
  readonly modelNames?: readonly string[];
  /** Path prefixes matched together with the model header. Defaults to `['/']`. */
  readonly pathPrefixes?: readonly string[];
  /** Path prefixes that select this model on their own (unique in the mesh). Defaults to none. */
  readonly dedicatedPathPrefixes?: readonly string[];
  /** At least one; see {@link ModelVersion.weight}. */
  readonly versions: readonly ModelVersion[];
  /** Defaults to `http1`. `http2`/`grpc` make the upstream clusters speak HTTP/2. */
  readonly protocol?: ModelProtocol;
  /** Defaults to {@link DEFAULT_RETRY_POLICY}; `{ attempts: 0 }` disables retries. */
  readonly retries?: RetryPolicy;
  /** Whole-request timeout in ms (0 = none). Defaults to 300000: completions can be slow. */
  readonly timeoutMs?: number;
  /** Stream idle timeout in ms (no bytes either way); absent = Envoy's default (5 min). */
  readonly idleTimeoutMs?: number;
}

export const DEFAULT_RETRY_POLICY: Required<Pick<RetryPolicy, 'attempts' | 'retryOn'>> = {
  attempts: 2,
  retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'reset-before-request'],
};
export const DEFAULT_MODEL_TIMEOUT_MS = 300_000;

/** The model names a model answers to (defaults applied). */
export function modelNamesOf(m: ModelService): readonly string[] {
  return m.modelNames ?? [m.name];
}

/** The version weights with the single-version default applied. */
export function versionWeight(m: ModelService, v: ModelVersion): number {
  return v.weight ?? (m.versions.length === 1 ? 100 : 0);
}
