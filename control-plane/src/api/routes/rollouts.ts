import type { Static } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ModelService } from '../../model/index.js';
import type { Change } from '../../store/store.js';
import type { ApiContext } from '../api-context.js';
import { checkIfMatch, etagOf, parseEntityTags } from '../preconditions.js';
import { ApiError } from '../problem.js';
import { CONFIG_VERSION_HEADER, DRY_RUN_HEADER, WriteQuery, isDryRun, present, registerResourceRoutes, responseSchema, type ResourceDefinition } from '../resource-routes.js';
import { ProblemSchema } from '../schemas/common.js';
import { Rollout, RolloutAction, RolloutStatus } from '../schemas/rollouts.js';
import { withWeights } from './models.js';

type RolloutSpec = Static<typeof Rollout> & { progress?: Static<typeof RolloutStatus> };
type Progress = Static<typeof RolloutStatus>;

const PROGRESS_KEY = 'progress';

function checkSteps(spec: Record<string, unknown>, ctx: ApiContext): void {
  const r = spec as unknown as RolloutSpec;
  const model = ctx.store.get('models', r.model);
  if (model === undefined) throw ApiError.invalid('/model', `model ${r.model} does not exist`);
  r.steps.forEach((step, i) => withWeights(model.spec as ModelService, step.weights, `/steps/${i}/weights`));
}

export const rolloutDefinition: ResourceDefinition = {
  kind: 'rollouts',
  kindName: 'Rollout',
  description: 'Version split plans (canary rollouts) walked step by step',
  body: Rollout,
  namespaced: false,
  check: (spec, ctx) => checkSteps(spec, ctx),
  serverOwned: { key: PROGRESS_KEY, initial: (): Progress => ({ phase: 'Pending', currentStep: -1 }) },
  status: {
    schema: RolloutStatus,
    of: (resource) => (resource.spec as RolloutSpec).progress ?? { phase: 'Pending', currentStep: -1 },
  },
};

/**
 * /v1/rollouts plus two actions, each one atomic commit of the rollout's progress and the model's
 * weights (so the audit trail and the config version show both together):
 * - `POST /v1/rollouts/{name}/advance`: Pending → step 0 (remembering the model's current weights
 *   as the baseline), then step by step; the last step completes the rollout.
 * - `POST /v1/rollouts/{name}/abort`: restores the baseline weights; the rollout ends Aborted.
 * Both take an optional If-Match on the rollout's ETag. A model has at most one Progressing rollout.
 */
export function rolloutRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerResourceRoutes(app, rolloutDefinition, ctx);
  const Resource = responseSchema(rolloutDefinition);
  const params = Type.Object({ name: Rollout.properties.name }, { additionalProperties: false });

  const act = (action: 'advance' | 'abort') =>
    async (
      request: import('fastify').FastifyRequest<{ Params: { name: string }; Body: { reason?: string } | undefined }>,
      reply: import('fastify').FastifyReply,
    ) => {
      const name = request.params.name;
      const current = ctx.store.get('rollouts', name);
      if (current === undefined) throw new ApiError('NOT_FOUND', `rollouts/${name} does not exist`);
      const ifMatch = parseEntityTags(request.headers['if-match'], 'if-match');
      const expected = ifMatch === undefined ? current.resourceVersion : checkIfMatch(ifMatch, current.resourceVersion, `rollouts/${name}`);
      const spec = current.spec as RolloutSpec;
      const progress: Progress = spec.progress ?? { phase: 'Pending', currentStep: -1 };
      const modelRes = ctx.store.get('models', spec.model);
      if (modelRes === undefined) throw new ApiError('REFERENCED', `model ${spec.model} of rollout ${name} no longer exists`);
      const model = modelRes.spec as ModelService;
      const at = ctx.now().toISOString();
      let next: Progress;
      let weights: Record<string, number> | undefined;
      if (action === 'advance') {
        if (progress.phase === 'Completed' || progress.phase === 'Aborted') {
          throw new ApiError('REFERENCED', `rollout ${name} is ${progress.phase}; create a new rollout to change weights again`);
        }
        if (progress.phase === 'Pending') {
          const other = ctx.store
            .snapshot()
            .resources.rollouts.find(
              (r) => r.name !== name && (r.spec as RolloutSpec).model === spec.model && (r.spec as RolloutSpec).progress?.phase === 'Progressing',
            );
          if (other !== undefined) throw new ApiError('REFERENCED', `model ${spec.model} already has a rollout in progress: ${other.name}`);
        }
        const step = progress.currentStep + 1;
        weights = spec.steps[step]!.weights;
        const baseline = progress.baseline ?? Object.fromEntries(model.versions.map((v) => [v.name, v.weight ?? (model.versions.length === 1 ? 100 : 0)]));
        next = {
          phase: step === spec.steps.length - 1 ? 'Completed' : 'Progressing',
          currentStep: step,
          baseline,
          startedAt: progress.startedAt ?? at,
          updatedAt: at,
          message: `step ${step + 1} of ${spec.steps.length} applied`,
        };
      } else {
        if (progress.phase === 'Completed' || progress.phase === 'Aborted') {
          throw new ApiError('REFERENCED', `rollout ${name} is already ${progress.phase}`);
        }
        weights = progress.baseline;
        next = { ...progress, phase: 'Aborted', updatedAt: at, message: progress.baseline === undefined ? 'aborted before any step' : 'aborted; baseline weights restored' };
      }
      const changes: Change[] = [{ op: 'update', kind: 'rollouts', name, spec: { ...spec, progress: next }, ifMatch: expected }];
      if (weights !== undefined) {
        let updated: ModelService;
        try {
          updated = withWeights(model, weights);
        } catch (err) {
          throw new ApiError('REFERENCED', `the rollout no longer fits model ${spec.model}: ${(err as Error).message}`);
        }
        changes.push({ op: 'update', kind: 'models', name: spec.model, spec: updated, ifMatch: modelRes.resourceVersion });
      }
      const result = ctx.store.commit(changes, {
        actor: request.principal!.name,
        validate: ctx.validate,
        dryRun: isDryRun(request),
        ...(request.body?.reason === undefined ? {} : { reason: request.body.reason }),
      });
      const r = result.results[0]!.resource!;
      if (result.dryRun) {
        void reply.header(DRY_RUN_HEADER, 'true').header(CONFIG_VERSION_HEADER, String(ctx.store.revision));
        return present(rolloutDefinition, r, ctx);
      }
      ctx.metrics.commits.inc({ kind: 'rollouts', op: action });
      void reply.header('etag', etagOf(r.resourceVersion)).header(CONFIG_VERSION_HEADER, String(result.revision));
      return present(rolloutDefinition, r, ctx);
    };

  for (const action of ['advance', 'abort'] as const) {
    app.post(
      `/v1/rollouts/:name/${action}`,
      {
        schema: {
          tags: ['rollouts'],
          summary: action === 'advance' ? 'Apply the next step of the rollout' : "Abort the rollout and restore the model's baseline weights",
          params,
          querystring: WriteQuery,
          body: Type.Optional(RolloutAction),
          response: { 200: Resource, 400: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 412: ProblemSchema },
        },
      },
      act(action),
    );
  }
}
