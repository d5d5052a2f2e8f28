import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { MESH_NAME } from '../model-bridge.js';
import { checkIfMatch, etagOf, parseEntityTags } from '../preconditions.js';
import { ApiError } from '../problem.js';
import { CONFIG_VERSION_HEADER, DRY_RUN_HEADER, WriteQuery, isDryRun, present, responseSchema, type ResourceDefinition } from '../resource-routes.js';
import { ProblemSchema } from '../schemas/common.js';
import { Mesh } from '../schemas/mesh.js';

const meshDefinition: ResourceDefinition = {
  kind: 'mesh',
  kindName: 'Mesh',
  description: 'Mesh-wide settings',
  body: Mesh,
  namespaced: false,
};

/**
 * Creates the `mesh` resource with the default trust domain when the store has none (first
 * start). Idempotent: later calls change nothing, so restarts do not bump the revision.
 */
export function ensureMeshResource(ctx: ApiContext): void {
  if (ctx.store.get('mesh', MESH_NAME) !== undefined) return;
  ctx.store.commit([{ op: 'create', kind: 'mesh', name: MESH_NAME, spec: { trustDomain: ctx.trustDomain } }], {
    actor: 'system:bootstrap',
    validate: ctx.validate,
  });
}

/** GET/PUT /v1/mesh: the singleton mesh settings (no create or delete; PUT requires If-Match). */
export function meshRoutes(app: FastifyInstance, ctx: ApiContext): void {
  ensureMeshResource(ctx);
  const Resource = responseSchema(meshDefinition);
  const tags = ['mesh'];
  const body = Type.Object(
    {
      ...Mesh.properties,
      kind: Type.Optional(Type.Literal('Mesh')),
      name: Type.Optional(Type.Literal(MESH_NAME)),
      metadata: Type.Optional(Type.Object({}, { additionalProperties: true })),
    },
    { additionalProperties: false },
  );
  const present_ = (reply: import('fastify').FastifyReply) => {
    const r = ctx.store.get('mesh', MESH_NAME)!;
    void reply.header('etag', etagOf(r.resourceVersion)).header(CONFIG_VERSION_HEADER, String(ctx.store.revision));
    const out = present(meshDefinition, r, ctx);
    return { ...out, name: MESH_NAME };
  };

  const MeshResponse = Type.Object({ ...Resource.properties, name: Type.Literal(MESH_NAME) }, { additionalProperties: false });
  app.get('/v1/mesh', { schema: { tags, summary: 'Read the mesh settings', response: { 200: MeshResponse } } }, async (_req, reply) =>
    present_(reply),
  );
  app.put<{ Body: Record<string, unknown> }>(
    '/v1/mesh',
    {
      schema: {
        tags,
        summary: 'Replace the mesh settings (If-Match required)',
        querystring: WriteQuery,
        body,
        response: { 200: MeshResponse, 400: ProblemSchema, 409: ProblemSchema, 412: ProblemSchema, 428: ProblemSchema },
      },
    },
    async (request, reply) => {
      const { kind: _k, name: _n, metadata: _m, ...spec } = request.body;
      const current = ctx.store.get('mesh', MESH_NAME)!;
      const ifMatch = parseEntityTags(request.headers['if-match'], 'if-match');
      if (ifMatch === undefined) {
        throw new ApiError('PRECONDITION_REQUIRED', `updating the mesh settings requires If-Match (currently ${etagOf(current.resourceVersion)})`, {
          issues: [{ in: 'headers', field: 'if-match', reason: 'is required on PUT' }],
          currentVersion: current.resourceVersion,
        });
      }
      const expected = checkIfMatch(ifMatch, current.resourceVersion, 'mesh');
      if (ctx.ca !== undefined && spec['trustDomain'] !== ctx.ca.trustDomain) {
        throw ApiError.invalid(
          '/trustDomain',
          `must be the CA's trust domain '${ctx.ca.trustDomain}' (certificates are issued in it; changing it needs a new CA)`,
        );
      }
      const result = ctx.store.commit([{ op: 'update', kind: 'mesh', name: MESH_NAME, spec, ifMatch: expected }], {
        actor: request.principal!.name,
        validate: ctx.validate,
        dryRun: isDryRun(request),
      });
      if (result.dryRun) {
        void reply.header(DRY_RUN_HEADER, 'true').header(CONFIG_VERSION_HEADER, String(ctx.store.revision));
        return { ...present(meshDefinition, result.results[0]!.resource!, ctx), name: MESH_NAME };
      }
      if (result.changed) ctx.metrics.commits.inc({ kind: 'mesh', op: 'update' });
      return present_(reply);
    },
  );
}
