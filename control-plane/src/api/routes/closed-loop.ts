import type { FastifyInstance } from 'fastify';
import { alertRuleRoutes } from './alert-rules.js';
import { alertRoutes } from './alerts.js';
import type { ClosedLoopPort } from './closed-loop-port.js';
import { reportRoutes } from './reports.js';
import { rolloutGuardRoutes } from './rollout-guards.js';

/**
 * Registers the closed loop's routes (alert rules, alerts and signals, reports, rollout guards)
 * when the control plane runs one; without it they are not registered at all (404), so an API
 * without telemetry exposes no route that could only fail.
 */
export function closedLoopRoutes(app: FastifyInstance, closedLoop: ClosedLoopPort | undefined): void {
  if (closedLoop === undefined) return;
  const port = (): ClosedLoopPort => closedLoop;
  alertRuleRoutes(app, port);
  alertRoutes(app, port);
  reportRoutes(app, port);
  rolloutGuardRoutes(app, port);
}
