/**
 * RateLimit resources → Envoy local rate limits on a model's routes.
 *
 * - The listener-level `envoy.filters.http.local_ratelimit` filter has no bucket of its own (nothing
 *   is limited unless a route says so); each limited route carries a per-route LocalRateLimit in
 *   `typed_per_filter_config`, with filter_enabled 100% and filter_enforced 100% (0% in dry run).
 * - Per caller: one route `rate_limits` entry per caller, a `header_value_match` action on
 *   `x-forwarded-client-cert` (which the HCM sanitizes and sets from the verified peer certificate,
 *   SANITIZE_SET with the URI, so a client cannot forge it), producing the descriptor
 *   `meshward_caller=<SPIFFE ID>`; the per-route config lists one descriptor bucket per caller.
 *   The caller is the immediate peer: at a gateway the client, at a sidecar the gateway.
 * - Envoy requires a bucket on per-route configs; a RateLimit with only callers gets an effectively
 *   unlimited route bucket.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { HeaderValueOption_HeaderAppendAction } from '../gen/envoy/config/core/v3/base_pb.js';
import { RateLimitSchema, type RateLimit as EnvoyRateLimit } from '../gen/envoy/config/route/v3/route_components_pb.js';
import { LocalRateLimitSchema } from '../gen/envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit_pb.js';
import type { TokenBucketSchema } from '../gen/envoy/type/v3/token_bucket_pb.js';
import { FractionalPercent_DenominatorType } from '../gen/envoy/type/v3/percent_pb.js';
import { escapeRegex } from '../model/path-pattern.js';
import type { RateLimit, TokenBucket } from '../model/rate-limit.js';
import { RATELIMIT_CALLER_KEY, RATELIMITED_HEADER, STAT_PREFIX_RATELIMIT, ratelimitStatPrefix } from './names.js';
import { ms, packAny } from './proto-helpers.js';

/** XFCC header the HCM sets from the verified client certificate. */
export const XFCC_HEADER = 'x-forwarded-client-cert';

/** Route-level bucket used when a RateLimit has callers only (Envoy needs one per route config). */
const UNLIMITED_BUCKET: TokenBucket = { maxTokens: 1_000_000_000, tokensPerFill: 1_000_000_000, fillIntervalMs: 1000 };

function tokenBucket(b: TokenBucket): MessageInitShape<typeof TokenBucketSchema> {
  return { maxTokens: b.maxTokens, tokensPerFill: b.tokensPerFill ?? b.maxTokens, fillInterval: ms(b.fillIntervalMs) };
}

/** RE2 full-match regex for an XFCC value whose URI field is exactly `spiffeId`. */
export function xfccUriRegex(spiffeId: string): string {
  return `(?:.*[;,])?URI=${escapeRegex(spiffeId)}(?:[;,].*)?`;
}

/** Listener-level filter config: no bucket, so only routes with their own config are limited. */
export function listenerLocalRateLimit(): Any {
  return packAny(LocalRateLimitSchema, { statPrefix: STAT_PREFIX_RATELIMIT });
}

export interface RouteRateLimit {
  /** `typed_per_filter_config[envoy.filters.http.local_ratelimit]`. */
  readonly perFilterConfig: Any;
  /** RouteAction.rate_limits producing the per-caller descriptors. */
  readonly rateLimits: EnvoyRateLimit[];
}

/** The per-route config and descriptor actions of one RateLimit. */
export function routeRateLimit(rl: RateLimit): RouteRateLimit {
  const percent = (n: number) => ({ defaultValue: { numerator: n, denominator: FractionalPercent_DenominatorType.HUNDRED } });
  const callers = rl.callers ?? [];
  const perFilterConfig = packAny(LocalRateLimitSchema, {
    statPrefix: ratelimitStatPrefix(rl.name),
    tokenBucket: tokenBucket(rl.bucket ?? UNLIMITED_BUCKET),
    filterEnabled: percent(100),
    filterEnforced: percent(rl.dryRun === true ? 0 : 100),
    responseHeadersToAdd: [
      { header: { key: RATELIMITED_HEADER, value: '1' }, appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD },
    ],
    descriptors: callers.map((c) => ({
      entries: [{ key: RATELIMIT_CALLER_KEY, value: c.principal }],
      tokenBucket: tokenBucket(c.bucket),
    })),
  });
  const rateLimits = callers.map((c) =>
    create(RateLimitSchema, {
      actions: [
        {
          actionSpecifier: {
            case: 'headerValueMatch',
            value: {
              descriptorKey: RATELIMIT_CALLER_KEY,
              descriptorValue: c.principal,
              expectMatch: true,
              headers: [
                {
                  name: XFCC_HEADER,
                  headerMatchSpecifier: { case: 'stringMatch', value: { matchPattern: { case: 'safeRegex', value: { regex: xfccUriRegex(c.principal) } } } },
                },
              ],
            },
          },
        },
      ],
    }),
  );
  return { perFilterConfig, rateLimits };
}
