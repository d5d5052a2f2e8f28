import { Type, type TSchema } from '@sinclair/typebox';

/**
 * Schemas shared by every resource. Names follow Kubernetes / Istio conventions: resources are
 * addressed by a DNS-1123 label `name`; the server owns `metadata` (versions, timestamps, actors)
 * and `status` (derived values); clients write `spec`.
 */

export const NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

export const Name = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: NAME_PATTERN,
  description: 'DNS-1123 label: lower-case letters, digits and "-", 1-63 characters, starting and ending alphanumeric.',
  examples: ['chat-gateway'],
});

export const NameParams = Type.Object({ name: Name }, { additionalProperties: false });

export const Metadata = Type.Object(
  {
    resourceVersion: Type.Integer({
      description:
        'Store revision of the change that last modified this resource. Equals the ETag; send it back in If-Match.',
    }),
    generation: Type.Integer({ description: 'How many times the spec changed since creation (1 on create).' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    createdBy: Type.String({ description: 'Name of the API token that created the resource.' }),
    updatedBy: Type.String(),
  },
  { additionalProperties: false, description: 'Server-owned. Ignored when sent on writes.' },
);

/** The stored representation of a resource of one kind. */
export function resourceSchema(kindName: string, spec: TSchema, status?: TSchema): TSchema {
  return Type.Object(
    {
      kind: Type.Literal(kindName),
      name: Name,
      spec,
      ...(status === undefined ? {} : { status }),
      metadata: Metadata,
    },
    { additionalProperties: false, title: kindName },
  );
}

const Ignored = Type.Object({}, { additionalProperties: true, description: 'Server-owned; ignored on writes.' });

/**
 * Body of POST /v1/<kind>. `kind`, `metadata` and `status` may be present (so a GET response can be
 * edited and sent back) but are ignored; any other unknown field is refused.
 */
export function createBodySchema(kindName: string, spec: TSchema): TSchema {
  return Type.Object(
    {
      name: Name,
      spec,
      kind: Type.Optional(Type.Literal(kindName)),
      metadata: Type.Optional(Ignored),
      status: Type.Optional(Ignored),
    },
    { additionalProperties: false },
  );
}

/** Body of PUT /v1/<kind>/{name}: the new spec; `name`, if present, must equal the path's. */
export function updateBodySchema(kindName: string, spec: TSchema): TSchema {
  return Type.Object(
    {
      spec,
      name: Type.Optional(Name),
      kind: Type.Optional(Type.Literal(kindName)),
      metadata: Type.Optional(Ignored),
      status: Type.Optional(Ignored),
    },
    { additionalProperties: false },
  );
}

export const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50, description: 'Page size (1-1000).' })),
    cursor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 512, description: 'The nextCursor of the previous page.' }),
    ),
  },
  { additionalProperties: false },
);

export function pageSchema(item: TSchema): TSchema {
  return Type.Object(
    {
      items: Type.Array(item),
      nextCursor: Type.Optional(Type.String({ description: 'Present when there are more items.' })),
    },
    { additionalProperties: false },
  );
}

export const Deleted = Type.Object(
  {
    kind: Type.String(),
    name: Type.String(),
    deleted: Type.Literal(true),
    configVersion: Type.Integer({ description: 'Store revision produced by the delete.' }),
  },
  { additionalProperties: false },
);

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
    code: Type.String(),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          in: Type.Union([
            Type.Literal('body'),
            Type.Literal('querystring'),
            Type.Literal('params'),
            Type.Literal('headers'),
          ]),
          field: Type.String(),
          reason: Type.String(),
        }),
      ),
    ),
    currentVersion: Type.Optional(Type.Integer()),
  },
  { title: 'Problem', description: 'RFC 9457 problem details (application/problem+json).' },
);

/** A string map for labels / selectors: keys and values bounded. */
export const Labels = Type.Record(Type.String({ minLength: 1, maxLength: 63 }), Type.String({ maxLength: 253 }), {
  maxProperties: 64,
});

/** A string enum as JSON Schema `enum` (one clear error: "must be one of ..."), typed as the union. */
export function StringEnum<const T extends readonly string[]>(values: T, options: { description?: string } = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}
