import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Counter } from 'prom-client';
import { createBudgetLeaseService, type BudgetLeaseService } from '../../budget/budget-lease-service.js';
import type { ApiContext } from '../api-context.js';
import { toMeshModel } from '../model-bridge.js';
import { ApiError } from '../problem.js';
import { registerResourceRoutes, type ResourceDefinition } from '../resource-routes.js';
import { Budget, ModelAccessList } from '../schemas/budgets.js';
import { ProblemSchema } from '../schemas/common.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The budget lease service (fleet bound), created by budgetRoutes. */
    budgetLeases?: BudgetLeaseService;
  }
}

export const budgetDefinition: ResourceDefinition = {
  kind: 'budgets',
  kindName: 'Budget',
  description: 'Token budgets per caller identity, enforced by the meshward filter (admission, streaming cut)',
  body: Budget,
  namespaced: false,
};

export const modelAccessListDefinition: ResourceDefinition = {
  kind: 'model-access-lists',
  kindName: 'ModelAccessList',
  description: 'Which caller identities may call which models, enforced on the request body by the meshward filter',
  body: ModelAccessList,
  namespaced: false,
};

const LeaseRequest = Type.Object(
  {
    nodeId: Type.String({ minLength: 1, maxLength: 256, description: "The proxy's id (all its worker threads share one count)." }),
    leases: Type.Array(
      Type.Object(
        {
          budget: Type.String({ minLength: 1, maxLength: 63 }),
          key: Type.String({ minLength: 1, maxLength: 2048, description: 'The caller identity, or * for a shared budget.' }),
          spent: Type.Integer({ minimum: 0, maximum: 1_000_000_000_000 }),
          want: Type.Integer({ minimum: 0, maximum: 1_000_000_000_000 }),
          release: Type.Optional(Type.Boolean()),
          granted: Type.Optional(Type.Integer({ minimum: 0, description: 'With release: the total grant the proxy released from; the release is ignored if the grant has changed since (a delayed call).' })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 256 },
    ),
  },
  { additionalProperties: false },
);

const LeaseResponse = Type.Object(
  {
    leases: Type.Array(
      Type.Object(
        {
          budget: Type.String(),
          key: Type.String(),
          windowStartMs: Type.Integer(),
          windowEndMs: Type.Integer(),
          granted: Type.Integer(),
          available: Type.Integer(),
          error: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const Usage = Type.Object(
  {
    budget: Type.String(),
    key: Type.String(),
    windowStartMs: Type.Integer(),
    windowEndMs: Type.Integer(),
    tokens: Type.Integer(),
    granted: Type.Integer(),
    spent: Type.Integer(),
    available: Type.Integer(),
    remaining: Type.Integer(),
    nodes: Type.Integer(),
  },
  { additionalProperties: false },
);

/**
 * `/v1/budgets` and `/v1/model-access-lists` (validated against the whole model, audited,
 * published in the global DLP policy's ECDS config), plus the lease endpoint the proxies call
 * (`POST /v1/budget-leases`, see budget/budget-lease-service.ts) and the usage view
 * (`GET /v1/budgets/{name}/usage?key=<identity or *>`).
 */
export function budgetRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerResourceRoutes(app, budgetDefinition, ctx);
  registerResourceRoutes(app, modelAccessListDefinition, ctx);
  const leases = createBudgetLeaseService({
    now: ctx.now,
    budgets: () => toMeshModel(ctx.store.snapshot(), ctx.trustDomain).budgets ?? [],
    ...(ctx.budgetLeaseState === undefined ? {} : { state: ctx.budgetLeaseState }),
  });
  app.decorate('budgetLeases', leases);
  const leaseCalls = new Counter({
    name: 'meshward_budget_lease_requests_total',
    help: 'Budget lease asks from proxies, by budget and outcome (granted: some tokens given; exhausted: none left; unknown_budget).',
    labelNames: ['budget', 'outcome'] as const,
    registers: [ctx.metrics.registry],
  });
  const granted = new Counter({
    name: 'meshward_budget_lease_granted_tokens_total',
    help: 'Budget cost units granted to proxies (the fleet spends at most this per window).',
    labelNames: ['budget'] as const,
    registers: [ctx.metrics.registry],
  });
  const lastGrant = new Map<string, number>();

  app.post<{ Body: { nodeId: string; leases: { budget: string; key: string; spent: number; want: number; release?: boolean; granted?: number }[] } }>(
    '/v1/budget-leases',
    {
      // Proxies call this with a `proxy` token (the only route it reaches). Viewers cannot: a
      // lease spends the fleet's budget.
      config: { access: 'proxy' },
      schema: {
        tags: ['budgets'],
        summary: "A proxy reports its spend and asks for more of a budget's window (the fleet bound)",
        body: LeaseRequest,
        response: { 200: LeaseResponse, 400: ProblemSchema },
      },
    },
    async (request) => {
      const out = leases.lease(request.body.nodeId, request.body.leases);
      for (const g of out) {
        if (g.error !== undefined) {
          leaseCalls.inc({ budget: g.budget, outcome: 'unknown_budget' });
          continue;
        }
        const k = `${request.body.nodeId}\u0000${g.budget}\u0000${g.key}\u0000${g.windowStartMs}`;
        const delta = g.granted - (lastGrant.get(k) ?? 0);
        lastGrant.set(k, g.granted);
        if (lastGrant.size > 100_000) lastGrant.clear(); // bounded: only the metric's precision suffers
        if (delta > 0) granted.inc({ budget: g.budget }, delta);
        leaseCalls.inc({ budget: g.budget, outcome: delta > 0 ? 'granted' : 'exhausted' });
      }
      return { leases: out };
    },
  );

  app.get<{ Params: { name: string }; Querystring: { key: string } }>(
    '/v1/budgets/:name/usage',
    {
      schema: {
        tags: ['budgets'],
        summary: "What the proxies reported for one budget counter in the current window",
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 63 }) }),
        querystring: Type.Object({ key: Type.String({ minLength: 1, maxLength: 2048, description: 'The caller identity, or * for a shared budget.' }) }, { additionalProperties: false }),
        response: { 200: Usage, 404: ProblemSchema },
      },
    },
    async (request) => {
      const u = leases.usage(request.params.name, request.query.key);
      if (u === undefined) throw new ApiError('NOT_FOUND', `budget ${request.params.name} does not exist`);
      return u;
    },
  );
}
