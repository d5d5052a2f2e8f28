import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { publicToken } from '../../store/sqlite-store.js';
import { API_ROLES, type ApiRole, type ApiToken } from '../../store/store.js';
import type { ApiContext } from '../api-context.js';
import { issueApiToken } from '../api-token.js';
import { ApiError } from '../problem.js';
import { paginate } from '../resource-routes.js';
import { ProblemSchema, StringEnum } from '../schemas/common.js';

const TokenView = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    role: StringEnum(API_ROLES),
    createdAt: Type.String(),
    createdBy: Type.String(),
    expiresAt: Type.Optional(Type.String()),
    revokedAt: Type.Optional(Type.String()),
  },
  { additionalProperties: false, title: 'ApiToken' },
);

const CreateToken = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 63,
      pattern: '^[a-z0-9]([-a-z0-9._]{0,61}[a-z0-9])?$',
      description: 'Unique forever (names are never reused): the audit trail names actors by it.',
    }),
    role: StringEnum(API_ROLES, {
      description:
        'admin: everything; viewer: reads (and the read-only POSTs); proxy: only POST /v1/budget-leases ' +
        '(for Envoys meshward does not start, e.g. an Istio WasmPlugin\'s budgets.lease.authorization).',
    }),
    expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'Defaults to never.' })),
  },
  { additionalProperties: false },
);

function view(t: ApiToken): Record<string, unknown> {
  const p = publicToken(t) as Record<string, unknown>;
  for (const k of Object.keys(p)) if (p[k] === undefined) delete p[k];
  return p;
}

/** /v1/tokens: API bearer tokens. Admin only, reads included (the list tells who can do what). */
export function tokenRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const tags = ['tokens'];
  const admin = { access: 'admin' as const };

  app.get<{ Querystring: { limit?: number; cursor?: string } }>(
    '/v1/tokens',
    {
      config: admin,
      schema: {
        tags,
        summary: 'List API tokens (without secrets)',
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), cursor: Type.Optional(Type.String({ maxLength: 512 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(TokenView), nextCursor: Type.Optional(Type.String()) }) },
      },
    },
    async (request) => {
      const page = ctx.store.tokens.list(request.query);
      return { items: page.items.map(view), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    },
  );

  app.post<{ Body: { name: string; role: ApiRole; expiresAt?: string } }>(
    '/v1/tokens',
    {
      config: admin,
      schema: {
        tags,
        summary: 'Create an API token (the token is shown once)',
        body: CreateToken,
        response: {
          201: Type.Object({ token: Type.String(), apiToken: TokenView }, { additionalProperties: false }),
          400: ProblemSchema,
          409: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const { name, role, expiresAt } = request.body;
      let expires: string | undefined;
      if (expiresAt !== undefined) {
        const t = Date.parse(expiresAt);
        if (t <= ctx.now().getTime()) throw ApiError.invalid('/expiresAt', 'must be in the future');
        expires = new Date(t).toISOString();
      }
      const issued = issueApiToken(ctx.store, {
        name,
        role,
        actor: request.principal!.name,
        ...(expires === undefined ? {} : { expiresAt: expires }),
      });
      return reply
        .code(201)
        .header('location', `/v1/tokens/${issued.record.id}`)
        .header('cache-control', 'no-store')
        .send({ token: issued.token, apiToken: view(issued.record) });
    },
  );

  const IdParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{16}$' }) }, { additionalProperties: false });
  app.get<{ Params: { id: string } }>(
    '/v1/tokens/:id',
    { config: admin, schema: { tags, summary: 'Read an API token', params: IdParams, response: { 200: TokenView, 404: ProblemSchema } } },
    async (request) => {
      const t = ctx.store.tokens.get(request.params.id);
      if (t === undefined) throw new ApiError('NOT_FOUND', `API token ${request.params.id} does not exist`);
      return view(t);
    },
  );
  app.delete<{ Params: { id: string } }>(
    '/v1/tokens/:id',
    {
      config: admin,
      schema: { tags, summary: 'Revoke an API token (effective immediately)', params: IdParams, response: { 200: TokenView, 404: ProblemSchema, 409: ProblemSchema } },
    },
    async (request) => {
      if (request.params.id === request.principal!.tokenId) {
        throw new ApiError('REFERENCED', 'a token cannot revoke itself (use another admin token), so the last admin cannot lock everyone out by accident');
      }
      return view(ctx.store.tokens.revoke(request.params.id, request.principal!.name));
    },
  );
}
