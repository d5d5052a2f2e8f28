import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { GuardStatus } from '../../rollouts/rollout-guard.js';
import { ApiError } from '../problem.js';
import { ProblemSchema } from '../schemas/common.js';
import { mapClosedLoopErrors } from './closed-loop-errors.js';
import type { ClosedLoopPort } from './closed-loop-port.js';

const Params = Type.Object({ name: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 }) }, { additionalProperties: false });
const Bounds = Type.Object(
  {
    maxErrorRatioIncrease: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    maxDenialRatioIncrease: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    maxDlpFindingRatioIncrease: Type.Optional(Type.Number({ minimum: 0, maximum: 1000 })),
    maxLatencyP95Ratio: Type.Optional(Type.Number({ minimum: 1, maximum: 100 })),
    latencyToleranceMs: Type.Optional(Type.Number({ minimum: 0, maximum: 600000 })),
  },
  { additionalProperties: false },
);
export const GuardBody = Type.Object(
  {
    canary: Type.Optional(Type.String({ maxLength: 63, description: 'Defaults to the version whose weight grows the most over the plan.' })),
    stable: Type.Optional(Type.String({ maxLength: 63, description: 'Defaults to the version with the largest weight before the rollout.' })),
    holdSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 2592000, description: "Hold of a step without pauseSeconds; defaults to 300." })),
    minRequests: Type.Optional(Type.Integer({ minimum: 0, description: 'Canary requests in the window before a step advances or ratios are judged; defaults to 20.' })),
    bounds: Type.Optional(Bounds),
  },
  { additionalProperties: false, title: 'RolloutGuard' },
);
const Action = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 1024 })) }, { additionalProperties: false });
const GuardView = Type.Object(
  {
    rollout: Type.String(),
    spec: Type.Unknown(),
    canary: Type.String(),
    stable: Type.String(),
    paused: Type.Boolean(),
    stepAppliedAt: Type.Optional(Type.String()),
    phase: Type.String(),
    currentStep: Type.Integer(),
    message: Type.Optional(Type.String()),
    lastVerdict: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false, title: 'RolloutGuardStatus' },
);
const tags = ['rollouts'];

const view = (g: GuardStatus): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...g };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
};

/**
 * Guarded rollouts: PUT/GET/DELETE /v1/rollouts/{name}/guard attaches the automation (steps on
 * schedule while the canary is within bounds, automatic rollback on a breach); POST
 * /v1/rollouts/{name}/pause and /resume stop and restart it. Abort stays
 * POST /v1/rollouts/{name}/abort (the rollouts resource's own action), which the guard respects.
 */
export function rolloutGuardRoutes(app: FastifyInstance, port: () => ClosedLoopPort): void {
  app.get('/v1/rollout-guards', { schema: { tags, summary: 'List guarded rollouts', response: { 200: Type.Object({ items: Type.Array(GuardView) }) } } }, async () => ({
    items: port().guard.list().map(view),
  }));
  app.get<{ Params: Static<typeof Params> }>(
    '/v1/rollouts/:name/guard',
    { schema: { tags, summary: "The rollout's guard, its canary/stable versions and the latest judgement", params: Params, response: { 200: GuardView, 404: ProblemSchema } } },
    async (request) => {
      const g = port().guard.get(request.params.name);
      if (g === undefined) throw new ApiError('NOT_FOUND', `rollout ${request.params.name} has no guard`);
      return view(g);
    },
  );
  app.put<{ Params: Static<typeof Params>; Body: Static<typeof GuardBody> }>(
    '/v1/rollouts/:name/guard',
    { schema: { tags, summary: 'Attach (or replace) the guard of a rollout', params: Params, body: GuardBody, response: { 200: GuardView, 400: ProblemSchema, 404: ProblemSchema } } },
    async (request) => view(mapClosedLoopErrors(() => port().guard.attach(request.params.name, request.body, request.principal!.name))),
  );
  app.delete<{ Params: Static<typeof Params> }>(
    '/v1/rollouts/:name/guard',
    { schema: { tags, summary: 'Detach the guard (the rollout stays where it is)', params: Params, response: { 204: Type.Null(), 404: ProblemSchema } } },
    async (request, reply) => {
      mapClosedLoopErrors(() => port().guard.detach(request.params.name, request.principal!.name));
      return reply.code(204).send();
    },
  );
  for (const action of ['pause', 'resume'] as const) {
    app.post<{ Params: Static<typeof Params>; Body: Static<typeof Action> | undefined }>(
      `/v1/rollouts/:name/${action}`,
      { schema: { tags, summary: action === 'pause' ? 'Pause the guard: no advance, no automatic rollback' : 'Resume the guard (the current step’s hold restarts)', params: Params, body: Type.Optional(Action), response: { 200: GuardView, 404: ProblemSchema } } },
      async (request) => view(mapClosedLoopErrors(() => port().guard[action](request.params.name, request.principal!.name, request.body?.reason))),
    );
  }
}
