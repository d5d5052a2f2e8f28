import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { registerResourceRoutes, type ResourceDefinition } from '../resource-routes.js';
import { RateLimit } from '../schemas/rate-limits.js';

export const rateLimitDefinition: ResourceDefinition = {
  kind: 'rate-limits',
  kindName: 'RateLimit',
  description: 'Local rate limits per model and per caller',
  body: RateLimit,
  namespaced: false,
};

export function rateLimitRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerResourceRoutes(app, rateLimitDefinition, ctx);
}
