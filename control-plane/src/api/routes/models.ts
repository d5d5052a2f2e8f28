import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ModelService } from '../../model/index.js';
import type { ApiContext } from '../api-context.js';
import { checkIfMatch, etagOf, parseEntityTags } from '../preconditions.js';
import { ApiError } from '../problem.js';
import { CONFIG_VERSION_HEADER, DRY_RUN_HEADER, WriteQuery, isDryRun, present, registerResourceRoutes, responseSchema, type ResourceDefinition } from '../resource-routes.js';
import { ProblemSchema } from '../schemas/common.js';
import { Model, Weights } from '../schemas/models.js';

export const modelDefinition: ResourceDefinition = {
  kind: 'models',
  kindName: 'Model',
  description: 'Model services and their versions',
  body: Model,
  namespaced: false,
};

/** Returns the model with its versions' weights replaced; throws a 400 naming the field otherwise. */
export function withWeights(model: ModelService, weights: Readonly<Record<string, number>>, field = ''): ModelService {
  const names = new Set(model.versions.map((v) => v.name));
  for (const name of Object.keys(weights)) {
    if (!names.has(name)) throw ApiError.invalid(`${field}/${name}`, `model ${model.name} has no version ${name} (it has ${[...names].join(', ')})`);
  }
  for (const name of names) {
    if (weights[name] === undefined) throw ApiError.invalid(`${field}/${name}`, `is required: every version of ${model.name} needs a weight`);
  }
  const sum = Object.values(weights).reduce((a, b) => a + b, 0);
  if (sum !== 100) throw ApiError.invalid(field, `weights sum to ${sum}, must sum to 100`);
  return { ...model, versions: model.versions.map((v) => ({ ...v, weight: weights[v.name]! })) };
}

/** /v1/models plus PUT /v1/models/{name}/weights, the common "shift traffic" operation. */
export function modelRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerResourceRoutes(app, modelDefinition, ctx);
  app.put<{ Params: { name: string }; Body: Record<string, number> }>(
    '/v1/models/:name/weights',
    {
      schema: {
        tags: ['models'],
        summary: "Set the versions' traffic weights (If-Match: the model's ETag)",
        params: Type.Object({ name: Model.properties.name }, { additionalProperties: false }),
        querystring: WriteQuery,
        body: Weights,
        response: { 200: responseSchema(modelDefinition), 400: ProblemSchema, 404: ProblemSchema, 412: ProblemSchema, 428: ProblemSchema },
      },
    },
    async (request, reply) => {
      const current = ctx.store.get('models', request.params.name);
      if (current === undefined) throw new ApiError('NOT_FOUND', `models/${request.params.name} does not exist`);
      const ifMatch = parseEntityTags(request.headers['if-match'], 'if-match');
      if (ifMatch === undefined) {
        throw new ApiError('PRECONDITION_REQUIRED', `changing weights requires If-Match with the model's ETag (currently ${etagOf(current.resourceVersion)})`, {
          issues: [{ in: 'headers', field: 'if-match', reason: 'is required' }],
          currentVersion: current.resourceVersion,
        });
      }
      const expected = checkIfMatch(ifMatch, current.resourceVersion, `models/${request.params.name}`);
      const spec = withWeights(current.spec as ModelService, request.body);
      const result = ctx.store.commit([{ op: 'update', kind: 'models', name: request.params.name, spec, ifMatch: expected }], {
        actor: request.principal!.name,
        validate: ctx.validate,
        dryRun: isDryRun(request),
      });
      const r = result.results[0]!.resource!;
      if (result.dryRun) {
        void reply.header(DRY_RUN_HEADER, 'true').header(CONFIG_VERSION_HEADER, String(ctx.store.revision));
        return present(modelDefinition, r, ctx);
      }
      if (result.changed) ctx.metrics.commits.inc({ kind: 'models', op: 'update' });
      void reply.header('etag', etagOf(r.resourceVersion)).header(CONFIG_VERSION_HEADER, String(ctx.store.revision));
      return present(modelDefinition, r, ctx);
    },
  );
}
