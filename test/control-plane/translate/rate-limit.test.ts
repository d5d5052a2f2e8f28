/** RateLimit → per-route LocalRateLimit and per-caller descriptors keyed on the verified XFCC URI. */
import { describe, expect, it } from 'vitest';
import { toJson } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { envoyRegistry, routeRateLimit, xfccUriRegex, listenerLocalRateLimit } from '../../../control-plane/src/translate/index.js';
import { LocalRateLimitSchema } from '../../../control-plane/src/gen/envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit_pb.js';
import { RateLimitSchema } from '../../../control-plane/src/gen/envoy/config/route/v3/route_components_pb.js';
import { TD } from '../model/fixtures.js';

const batch = `spiffe://${TD}/ns/apps/sa/batch`;

describe('routeRateLimit', () => {
  it('route bucket, enabled and enforced 100%, 429 marker header, one descriptor per caller', () => {
    const r = routeRateLimit({
      name: 'chat-limit',
      model: 'chat',
      bucket: { maxTokens: 100, tokensPerFill: 10, fillIntervalMs: 1000 },
      callers: [{ principal: batch, bucket: { maxTokens: 5, fillIntervalMs: 60_000 } }],
    });
    const cfg = toJson(LocalRateLimitSchema, anyUnpack(r.perFilterConfig, LocalRateLimitSchema)!, { registry: envoyRegistry });
    expect(cfg).toEqual({
      statPrefix: 'meshward_ratelimit_chat-limit',
      tokenBucket: { maxTokens: 100, tokensPerFill: 10, fillInterval: '1s' },
      filterEnabled: { defaultValue: { numerator: 100 } },
      filterEnforced: { defaultValue: { numerator: 100 } },
      responseHeadersToAdd: [{ header: { key: 'x-meshward-ratelimited', value: '1' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
      descriptors: [{ entries: [{ key: 'meshward_caller', value: batch }], tokenBucket: { maxTokens: 5, tokensPerFill: 5, fillInterval: '60s' } }],
    });
    expect(r.rateLimits.map((x) => toJson(RateLimitSchema, x))).toEqual([
      {
        actions: [
          {
            headerValueMatch: {
              descriptorKey: 'meshward_caller',
              descriptorValue: batch,
              expectMatch: true,
              headers: [{ name: 'x-forwarded-client-cert', stringMatch: { safeRegex: { regex: xfccUriRegex(batch) } } }],
            },
          },
        ],
      },
    ]);
  });

  it('dry run counts without enforcing; callers-only still gets the route bucket Envoy requires', () => {
    const r = routeRateLimit({ name: 'x', model: 'chat', dryRun: true, callers: [{ principal: batch, bucket: { maxTokens: 1, fillIntervalMs: 1000 } }] });
    const cfg = anyUnpack(r.perFilterConfig, LocalRateLimitSchema)!;
    expect(cfg.filterEnforced!.defaultValue!.numerator).toBe(0);
    expect(cfg.tokenBucket!.maxTokens).toBeGreaterThanOrEqual(1_000_000);
  });

  it('the listener-level limiter has no bucket (only routes limit)', () => {
    const cfg = anyUnpack(listenerLocalRateLimit(), LocalRateLimitSchema)!;
    expect(cfg.statPrefix).toBe('meshward_ratelimit');
    expect(cfg.tokenBucket).toBeUndefined();
  });
});

describe('xfccUriRegex (full match, as RE2 safe_regex does)', () => {
  const re = new RegExp(`^(?:${xfccUriRegex(batch)})$`);
  it.each([
    [`By=spiffe://${TD}/ns/gw/sa/edge;Hash=abc;URI=${batch}`, true],
    [`By=x;Hash=abc;URI=${batch};DNS=foo`, true],
    [`URI=${batch}`, true],
    [`By=x;Hash=abc;URI=${batch}x`, false],
    [`By=x;Hash=abc;URI=spiffe://meshwardXtest/ns/apps/sa/batch`, false],
    [`By=x;Hash=abc;URI=${batch}/more`, false],
    [`By=x;Hash=abc`, false],
  ])('%s → %s', (xfcc, match) => {
    expect(re.test(xfcc)).toBe(match);
  });
});
