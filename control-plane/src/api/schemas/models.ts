import { Type } from '@sinclair/typebox';
import { StringEnum } from './common.js';
import { ResourceName } from './workloads.js';

/** ModelService (control-plane/src/model/model-service.ts) as the API accepts it. */

const PathPrefix = Type.String({ minLength: 1, maxLength: 1024, pattern: '^/', description: 'A literal path prefix starting with "/".' });

export const ModelEndpoint = Type.Object(
  {
    address: Type.String({ minLength: 1, maxLength: 253, description: 'IP literal or DNS hostname.' }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    weight: Type.Optional(Type.Integer({ minimum: 1, maximum: 128, description: 'Load-balancing weight within the version; defaults to 1.' })),
    locality: Type.Optional(
      Type.Object(
        {
          region: Type.Optional(Type.String({ maxLength: 128 })),
          zone: Type.Optional(Type.String({ maxLength: 128 })),
          subZone: Type.Optional(Type.String({ maxLength: 128 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ModelVersion = Type.Object(
  {
    name: ResourceName,
    weight: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 100, description: "Percent of the model's traffic; the versions' weights sum to 100." }),
    ),
    endpoints: Type.Array(ModelEndpoint, { minItems: 1, maxItems: 1000 }),
    identities: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), {
        maxItems: 100,
        description: 'SPIFFE IDs the servers of this version present.',
      }),
    ),
    upstreamTls: Type.Optional(StringEnum(['MUTUAL', 'DISABLE'])),
  },
  { additionalProperties: false },
);

export const Model = Type.Object(
  {
    name: ResourceName,
    modelNames: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
        maxItems: 100,
        description: 'Values of the x-meshward-model header (the request body "model") that select this model. Defaults to [name].',
      }),
    ),
    pathPrefixes: Type.Optional(Type.Array(PathPrefix, { maxItems: 100 })),
    dedicatedPathPrefixes: Type.Optional(Type.Array(PathPrefix, { maxItems: 100 })),
    versions: Type.Array(ModelVersion, { minItems: 1, maxItems: 100 }),
    protocol: Type.Optional(StringEnum(['http1', 'http2', 'grpc'])),
    retries: Type.Optional(
      Type.Object(
        {
          attempts: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
          perTryTimeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000 })),
          retryOn: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32 })),
          retriableStatusCodes: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { maxItems: 64 })),
        },
        { additionalProperties: false },
      ),
    ),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000 })),
    idleTimeoutMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000 })),
  },
  {
    additionalProperties: false,
    description: 'A model service: versions (endpoints + traffic weights) and how requests are routed to it.',
  },
);

/** PUT /v1/models/{name}/weights: version name → percent. */
export const Weights = Type.Record(Type.String({ pattern: '^[a-z0-9]([-a-z0-9._]{0,61}[a-z0-9])?$' }), Type.Integer({ minimum: 0, maximum: 100 }), {
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 100,
  description: 'Traffic percent per version name; must name every version and sum to 100.',
});
