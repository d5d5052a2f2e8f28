import type { AlertEngine } from '../../alerts/alert-engine.js';
import type { AuditReport } from '../../reports/audit-report.js';
import type { RolloutGuard } from '../../rollouts/rollout-guard.js';
import type { SignalEngine } from '../../signals/signal-engine.js';

/**
 * What the closed loop's routes need (alert-rules.ts, alerts.ts, reports.ts, rollout-guards.ts);
 * `createClosedLoop()` (telemetry/closed-loop.ts) satisfies it. The routes answer 503 without it.
 */
export interface ClosedLoopPort {
  readonly alerts: AlertEngine;
  readonly signals: SignalEngine;
  readonly guard: RolloutGuard;
  report(since: string | undefined, until: string | undefined): AuditReport;
}
