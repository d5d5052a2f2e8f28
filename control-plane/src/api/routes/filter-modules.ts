import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { registerResourceRoutes, type ResourceDefinition } from '../resource-routes.js';
import { FilterModule } from '../schemas/filter-modules.js';

export const filterModuleDefinition: ResourceDefinition = {
  kind: 'filter-modules',
  kindName: 'FilterModule',
  description: 'Compiled meshward filter modules and where proxies load them from',
  body: FilterModule,
  namespaced: false,
};

export function filterModuleRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerResourceRoutes(app, filterModuleDefinition, ctx);
}
