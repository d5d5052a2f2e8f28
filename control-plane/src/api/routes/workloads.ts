import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { resolveMtlsMode, workloadSpiffeId, type MeshSettings, type Workload as WorkloadModel } from '../../model/index.js';
import type { JoinTokenRecord } from '../../ca/join-token-store.js';
import type { ApiContext } from '../api-context.js';
import { MESH_NAME } from '../model-bridge.js';
import { ApiError } from '../problem.js';
import { registerResourceRoutes, type ResourceDefinition } from '../resource-routes.js';
import { ProblemSchema } from '../schemas/common.js';
import { IssuedJoinToken, JoinToken, JoinTokenRequest, Workload, WorkloadStatus } from '../schemas/workloads.js';

export function meshSettings(ctx: ApiContext): MeshSettings {
  return (ctx.store.get('mesh', MESH_NAME)?.spec as MeshSettings | undefined) ?? { trustDomain: ctx.trustDomain };
}

export const workloadDefinition: ResourceDefinition = {
  kind: 'workloads',
  kindName: 'Workload',
  description: 'Workloads and their identities',
  body: Workload,
  namespaced: true,
  status: {
    schema: WorkloadStatus,
    of(resource, ctx) {
      const w = resource.spec as WorkloadModel;
      const mesh = meshSettings(ctx);
      return { spiffeId: workloadSpiffeId(mesh, w), mtlsMode: resolveMtlsMode(mesh, w) };
    },
  },
  filters: {
    namespace: {
      schema: Type.String({ maxLength: 63, description: 'Only workloads of this namespace.' }),
      matches: (spec, value) => (spec as WorkloadModel).namespace === value,
    },
  },
};

/** The API view of a join token record: never its hash. */
export function joinTokenView(r: JoinTokenRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { id: r.tokenId, spiffeId: r.spiffeId, createdAt: r.createdAt, expiresAt: r.expiresAt };
  if (r.revokedAt !== undefined) out['revokedAt'] = r.revokedAt;
  if (r.lastUsedAt !== undefined) out['lastUsedAt'] = r.lastUsedAt;
  if (r.description !== undefined) out['description'] = r.description;
  return out;
}

/**
 * /v1/workloads plus the join-token sub-resource: a join token lets one Envoy of the workload
 * prove its identity on its first xDS connection (before it has a certificate). The token is
 * shown once in the POST response; the CA keeps only its hash. Issuing and revoking are audited
 * (kind `join-tokens`, name = the SPIFFE ID) right after the CA confirmed them.
 */
export function workloadRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerResourceRoutes(app, workloadDefinition, ctx);

  const Label = Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$', maxLength: 63 });
  const Params = Type.Object({ namespace: Label, name: Label }, { additionalProperties: false });
  const TokenParams = Type.Object(
    { namespace: Label, name: Label, id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9a-f]+$' }) },
    { additionalProperties: false },
  );
  const tags = ['workloads'];
  const requireCa = () => {
    if (ctx.ca === undefined) throw new ApiError('UNAVAILABLE', 'no certificate authority is configured in this control plane');
    return ctx.ca;
  };
  const spiffeIdOf = (namespace: string, name: string): string => {
    const r = ctx.store.get('workloads', `${namespace}/${name}`);
    if (r === undefined) throw new ApiError('NOT_FOUND', `workloads/${namespace}/${name} does not exist`);
    return workloadSpiffeId(meshSettings(ctx), r.spec as WorkloadModel);
  };

  app.post<{ Params: { namespace: string; name: string }; Body: { ttlSeconds?: number; description?: string } }>(
    '/v1/workloads/:namespace/:name/join-tokens',
    {
      schema: {
        tags,
        summary: 'Issue a join token for the workload (shown once)',
        params: Params,
        body: JoinTokenRequest,
        response: { 201: IssuedJoinToken, 400: ProblemSchema, 404: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (request, reply) => {
      const ca = requireCa();
      const spiffeId = spiffeIdOf(request.params.namespace, request.params.name);
      const { ttlSeconds, description } = request.body;
      const issued = await ca.issueJoinToken(spiffeId, {
        ...(ttlSeconds === undefined ? {} : { ttlMs: ttlSeconds * 1000 }),
        ...(description === undefined ? {} : { description }),
      });
      const view = joinTokenView(issued.record);
      ctx.store.audit.record({ actor: request.principal!.name, action: 'issue', kind: 'join-tokens', name: spiffeId, after: view });
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .header('location', `/v1/workloads/${request.params.namespace}/${request.params.name}/join-tokens/${issued.record.tokenId}`)
        .send({ token: issued.token, joinToken: view });
    },
  );

  app.get<{ Params: { namespace: string; name: string } }>(
    '/v1/workloads/:namespace/:name/join-tokens',
    {
      schema: {
        tags,
        summary: "List the workload's join tokens (never the tokens themselves)",
        params: Params,
        response: { 200: Type.Object({ items: Type.Array(JoinToken) }), 404: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (request) => {
      const ca = requireCa();
      const spiffeId = spiffeIdOf(request.params.namespace, request.params.name);
      return { items: (await ca.listJoinTokens({ spiffeId })).map(joinTokenView) };
    },
  );

  app.delete<{ Params: { namespace: string; name: string; id: string } }>(
    '/v1/workloads/:namespace/:name/join-tokens/:id',
    {
      schema: {
        tags,
        summary: 'Revoke a join token',
        params: TokenParams,
        response: { 200: JoinToken, 404: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (request) => {
      const ca = requireCa();
      const spiffeId = spiffeIdOf(request.params.namespace, request.params.name);
      const tokens = await ca.listJoinTokens({ spiffeId });
      const before = tokens.find((t) => t.tokenId === request.params.id);
      if (before === undefined) throw new ApiError('NOT_FOUND', `join token ${request.params.id} does not belong to ${spiffeId}`);
      const revoked = joinTokenView(await ca.revokeJoinToken(request.params.id));
      ctx.store.audit.record({ actor: request.principal!.name, action: 'revoke', kind: 'join-tokens', name: spiffeId, before: joinTokenView(before), after: revoked });
      return revoked;
    },
  );
}
