import { Type } from '@sinclair/typebox';
import { ResourceName } from './workloads.js';

/** Budget and ModelAccessList (control-plane/src/model/budget.ts) as the API accepts them. */

const Principals = Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), {
  minItems: 1,
  maxItems: 1000,
  description: "Caller patterns: exact SPIFFE ID, 'spiffe://<td>/ns/<ns>/*', 'spiffe://<td>/*' or '*'.",
});
const ModelPattern = Type.String({ minLength: 1, maxLength: 256, pattern: '^[\\x21-\\x7e]+$', description: "A body `model` value; '*' matches any run of characters (`gpt-4o*`)." });
const Weight = Type.Number({ minimum: 0, maximum: 1000 });

export const Budget = Type.Object(
  {
    name: ResourceName,
    principals: Principals,
    models: Type.Optional(Type.Array(ModelPattern, { minItems: 1, maxItems: 1000 })),
    routes: Type.Optional(Type.Array(ResourceName, { minItems: 1, maxItems: 1000, description: 'ModelService names.' })),
    tokens: Type.Integer({ minimum: 1, maximum: 1_000_000_000_000, description: 'Cost units per window.' }),
    window: Type.Union([Type.Literal('minute'), Type.Literal('hour'), Type.Literal('day')], { description: 'Fixed window aligned to UTC.' }),
    shared: Type.Optional(Type.Boolean({ description: 'One counter for all matched identities (default: one per identity).' })),
    onExceed: Type.Optional(Type.Union([Type.Literal('reject'), Type.Literal('clamp')], { description: 'Default reject (429).' })),
    minOutputTokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    costs: Type.Optional(
      Type.Array(
        Type.Object(
          { model: ModelPattern, input: Type.Optional(Weight), cachedInput: Type.Optional(Weight), output: Type.Optional(Weight) },
          { additionalProperties: false },
        ),
        { maxItems: 1000 },
      ),
    ),
    dryRun: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, description: 'Tokens per fixed window for caller identities, optionally per model and route, with a cost formula per model.' },
);

export const ModelAccessList = Type.Object(
  {
    name: ResourceName,
    principals: Principals,
    models: Type.Array(ModelPattern, { maxItems: 1000, description: 'Models the callers may use (union over the lists matching a caller).' }),
  },
  { additionalProperties: false, description: 'Which caller identities may call which models (by the body `model` field).' },
);
