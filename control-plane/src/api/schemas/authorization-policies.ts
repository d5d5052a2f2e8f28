import { Type } from '@sinclair/typebox';
import { StringEnum } from './common.js';
import { ResourceName } from './workloads.js';

/** AuthorizationPolicy (control-plane/src/model/authorization-policy.ts) as the API accepts it. */

const Weekday = StringEnum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
const Clock = Type.String({ pattern: '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$', description: 'HH:MM, 24 h (24:00 only as end).' });

export const TimeWindow = Type.Object(
  {
    days: Type.Optional(Type.Array(Weekday, { maxItems: 7 })),
    start: Clock,
    end: Clock,
    timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA zone; defaults to UTC.' })),
  },
  { additionalProperties: false },
);

export const Operation = Type.Object(
  {
    methods: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { maxItems: 16 })),
    paths: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), { maxItems: 64 })),
  },
  { additionalProperties: false },
);

export const HeaderCondition = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256 }),
    op: StringEnum(['exact', 'prefix', 'suffix', 'contains', 'regex', 'present']),
    value: Type.Optional(Type.String({ maxLength: 1024 })),
    invert: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const AuthorizationRule = Type.Object(
  {
    from: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), {
        maxItems: 256,
        description: 'Caller patterns: exact SPIFFE ID, spiffe://<td>/ns/<ns>/*, spiffe://<td>/* or * (any authenticated).',
      }),
    ),
    to: Type.Optional(Type.Array(StringEnum(['infer', 'read_models', 'admin']), { maxItems: 3 })),
    operations: Type.Optional(Type.Array(Operation, { maxItems: 64 })),
    headers: Type.Optional(Type.Array(HeaderCondition, { maxItems: 32 })),
    models: Type.Optional(Type.Array(ResourceName, { maxItems: 256 })),
    when: Type.Optional(Type.Array(TimeWindow, { maxItems: 32 })),
  },
  { additionalProperties: false },
);

export const AuthorizationPolicy = Type.Object(
  {
    name: ResourceName,
    action: Type.Optional(StringEnum(['ALLOW'])),
    rules: Type.Array(AuthorizationRule, { minItems: 1, maxItems: 256 }),
    workloads: Type.Optional(
      Type.Array(Type.String({ minLength: 3, maxLength: 127 }), {
        maxItems: 256,
        description: '"<namespace>/<name>" or "<namespace>/*"; absent: every workload.',
      }),
    ),
    dryRun: Type.Optional(Type.Boolean({ description: 'Observe only (RBAC shadow rules).' })),
  },
  { additionalProperties: false, description: 'Who may call which model operations, and when. Default deny.' },
);
