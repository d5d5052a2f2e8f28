import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { ApiContext } from '../api-context.js';
import { auditRoutes } from './audit.js';
import { budgetRoutes } from './budgets.js';
import { certificateRoutes } from './certificates.js';
import { closedLoopRoutes } from './closed-loop.js';
import { controllerRoutes } from './controller.js';
import { authorizationPolicyRoutes } from './authorization-policies.js';
import { dlpPolicyRoutes } from './dlp-policies.js';
import { explainRoutes } from './explain.js';
import { filterModuleRoutes } from './filter-modules.js';
import { fleetRoutes } from './fleet.js';
import { healthRoutes } from './health.js';
import { istioWasmPluginRoutes } from './istio-wasm-plugins.js';
import { meshRoutes } from './mesh.js';
import { modelRoutes } from './models.js';
import { rateLimitRoutes } from './rate-limits.js';
import { rolloutRoutes } from './rollouts.js';
import { tokenRoutes } from './tokens.js';
import { whoamiRoutes } from './whoami.js';
import { workloadRoutes } from './workloads.js';

/** Registers every route of the API. One line per resource; each module owns its routes. */
export function registerRoutes(
  app: FastifyInstance,
  ctx: ApiContext,
  opts: { metricsRegistries: readonly Registry[]; notReadyReason: (() => string | undefined) | undefined },
): void {
  healthRoutes(app, ctx, opts);
  tokenRoutes(app, ctx);
  whoamiRoutes(app);
  auditRoutes(app, ctx);
  meshRoutes(app, ctx);
  workloadRoutes(app, ctx);
  modelRoutes(app, ctx);
  authorizationPolicyRoutes(app, ctx);
  rateLimitRoutes(app, ctx);
  filterModuleRoutes(app, ctx);
  dlpPolicyRoutes(app, ctx);
  budgetRoutes(app, ctx);
  istioWasmPluginRoutes(app, ctx);
  rolloutRoutes(app, ctx);
  explainRoutes(app, ctx);
  fleetRoutes(app, ctx);
  controllerRoutes(app, ctx);
  certificateRoutes(app, ctx);
  closedLoopRoutes(app, ctx.closedLoop);
}
