import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { registerResourceRoutes, type ResourceDefinition } from '../resource-routes.js';
import { Budget, ModelAccessList } from '../schemas/budgets.js';

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

/** `/v1/budgets` and `/v1/model-access-lists`: validated against the whole model, audited, published. */
export function budgetRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerResourceRoutes(app, budgetDefinition, ctx);
  registerResourceRoutes(app, modelAccessListDefinition, ctx);
}
