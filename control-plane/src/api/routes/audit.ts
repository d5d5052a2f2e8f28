import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AuditEntry } from '../../store/store.js';
import type { ApiContext } from '../api-context.js';
import { maskSecrets, type SecretPath } from '../secret-fields.js';
import { dlpPolicyDefinition } from './dlp-policies.js';
import { ProblemSchema, StringEnum } from '../schemas/common.js';

const Entry = Type.Object(
  {
    id: Type.Integer(),
    at: Type.String({ format: 'date-time' }),
    actor: Type.String({ description: 'API token name, or system:<component>.' }),
    action: Type.String({ description: 'create | update | delete for resources; revoke, issue, rotate, ... otherwise.' }),
    kind: Type.String(),
    name: Type.String(),
    revision: Type.Optional(Type.Integer({ description: 'Config revision the change produced.' })),
    fromVersion: Type.Optional(Type.Integer()),
    toVersion: Type.Optional(Type.Integer()),
    before: Type.Optional(Type.Unknown()),
    after: Type.Optional(Type.Unknown()),
    reason: Type.Optional(Type.String()),
  },
  { additionalProperties: false, title: 'AuditEntry' },
);

const Query = Type.Object(
  {
    since: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive lower bound.' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'Exclusive upper bound.' })),
    actor: Type.Optional(Type.String({ maxLength: 128 })),
    kind: Type.Optional(Type.String({ maxLength: 64 })),
    name: Type.Optional(Type.String({ maxLength: 128 })),
    order: Type.Optional(StringEnum(['asc', 'desc'], { description: 'Defaults to desc (newest first).' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  },
  { additionalProperties: false },
);

/** Write-only fields per kind, masked in the audit view as in the resources' own responses. */
const SECRET_PATHS: Readonly<Record<string, readonly SecretPath[]>> = {
  'dlp-policies': dlpPolicyDefinition.secretPaths ?? [],
};

function view(e: AuditEntry): Record<string, unknown> {
  const secrets = SECRET_PATHS[e.kind];
  const out: Record<string, unknown> =
    secrets === undefined ? { ...e } : { ...e, before: maskSecrets(e.before, secrets), after: maskSecrets(e.after, secrets) };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

/** GET /v1/audit: the audit trail, written in the same transaction as each change. */
export function auditRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: Record<string, string | number | undefined> }>(
    '/v1/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Query the audit trail by time range, actor and resource',
        querystring: Query,
        response: { 200: Type.Object({ items: Type.Array(Entry), nextCursor: Type.Optional(Type.String()) }), 400: ProblemSchema },
      },
    },
    async (request) => {
      const page = ctx.store.audit.query(request.query as Parameters<typeof ctx.store.audit.query>[0]);
      return { items: page.items.map(view), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    },
  );
}
