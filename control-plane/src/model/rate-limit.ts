/**
 * Local rate limits (Envoy's local_ratelimit filter): token buckets kept by each proxy instance,
 * so the fleet-wide limit is the per-instance limit times the number of replicas. Exceeded requests
 * get 429 with header `x-meshward-ratelimited: 1`.
 */

/** A token bucket: up to `maxTokens`, refilled with `tokensPerFill` every `fillIntervalMs`. */
export interface TokenBucket {
  /** >= 1. */
  readonly maxTokens: number;
  /** >= 1; defaults to `maxTokens`. */
  readonly tokensPerFill?: number;
  /** >= 50 ms (Envoy's minimum), whole milliseconds. */
  readonly fillIntervalMs: number;
}

export interface CallerRateLimit {
  /** Exact SPIFFE ID of the caller (the peer certificate's URI SAN). */
  readonly principal: string;
  readonly bucket: TokenBucket;
}

export interface RateLimit {
  /** Unique in the mesh; `[a-z0-9]([-a-z0-9._]*[a-z0-9])?`, max 63. Also the stat prefix suffix. */
  readonly name: string;
  /** The model (ModelService.name) whose routes are limited. One RateLimit per model. */
  readonly model: string;
  /**
   * Bucket shared by all requests on the model's routes (per proxy, per route). Absent: no overall
   * limit, only the per-caller ones.
   */
  readonly bucket?: TokenBucket;
  /**
   * Buckets per caller identity, checked in addition to `bucket`; one per principal. A caller
   * without an entry is only subject to `bucket`.
   */
  readonly callers?: readonly CallerRateLimit[];
  /** Count but do not reject (filter_enforced 0%). Defaults to false. */
  readonly dryRun?: boolean;
}
