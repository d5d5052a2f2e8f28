import type { FastifyInstance } from 'fastify';
import { ApiError } from '../problem.js';
import { alertRuleRoutes } from './alert-rules.js';
import { alertRoutes } from './alerts.js';
import type { ClosedLoopPort } from './closed-loop-port.js';
import { reportRoutes } from './reports.js';
import { rolloutGuardRoutes } from './rollout-guards.js';

/**
 * Registers the closed loop's routes (alert rules, alerts and signals, reports, rollout guards).
 * Without a closed loop they answer 503, so the API's surface (and its OpenAPI document) is the same
 * either way.
 */
export function closedLoopRoutes(app: FastifyInstance, closedLoop: ClosedLoopPort | undefined): void {
  const port = (): ClosedLoopPort => {
    if (closedLoop === undefined) throw new ApiError('UNAVAILABLE', 'the closed loop (telemetry, alerts, guarded rollouts, reports) is not running in this control plane');
    return closedLoop;
  };
  alertRuleRoutes(app, port);
  alertRoutes(app, port);
  reportRoutes(app, port);
  rolloutGuardRoutes(app, port);
}
