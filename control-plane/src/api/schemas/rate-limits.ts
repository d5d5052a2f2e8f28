import { Type } from '@sinclair/typebox';
import { ResourceName } from './workloads.js';

/** RateLimit (control-plane/src/model/rate-limit.ts) as the API accepts it. */

export const TokenBucket = Type.Object(
  {
    maxTokens: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }),
    tokensPerFill: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000 })),
    fillIntervalMs: Type.Integer({ minimum: 50, maximum: 86_400_000 }),
  },
  { additionalProperties: false },
);

export const RateLimit = Type.Object(
  {
    name: ResourceName,
    model: ResourceName,
    bucket: Type.Optional(TokenBucket),
    callers: Type.Optional(
      Type.Array(
        Type.Object(
          { principal: Type.String({ minLength: 1, maxLength: 2048, description: 'Exact SPIFFE ID.' }), bucket: TokenBucket },
          { additionalProperties: false },
        ),
        { maxItems: 1000 },
      ),
    ),
    dryRun: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, description: 'Local rate limits for one model: overall and per caller identity (per proxy).' },
);
