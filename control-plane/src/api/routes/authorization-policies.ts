import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { registerResourceRoutes, type ResourceDefinition } from '../resource-routes.js';
import { AuthorizationPolicy } from '../schemas/authorization-policies.js';

export const authorizationPolicyDefinition: ResourceDefinition = {
  kind: 'authorization-policies',
  kindName: 'AuthorizationPolicy',
  description: 'Who may call which model operations, and when',
  body: AuthorizationPolicy,
  namespaced: false,
};

export function authorizationPolicyRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerResourceRoutes(app, authorizationPolicyDefinition, ctx);
}
