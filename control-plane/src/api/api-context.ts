import type { LeaseStatePort } from '../budget/budget-lease-service.js';
import type { FleetView } from '../xds/fleet-view.js';
import type { CandidateValidator, Store } from '../store/store.js';
import type { ApiMetrics } from './api-metrics.js';
import type { CertificateAuthorityPort, ControllerPort, DlpEnginePort } from './ports.js';
import type { ProblemIssue } from './problem.js';
import type { ClosedLoopPort } from './routes/closed-loop-port.js';

/**
 * What every route plugin gets: the store and the optional collaborators. Built once by the app
 * plugin from ApiOptions; routes never reach for module-level state.
 */
export interface ApiContext {
  readonly store: Store;
  readonly now: () => Date;
  /** Trust domain used until a `mesh` resource is stored (and to check it against the CA's). */
  readonly trustDomain: string;
  /** The full candidate check: domain model validation, then the caller's own (e.g. translation). */
  readonly validate: CandidateValidator;
  readonly metrics: ApiMetrics;
  readonly ca: CertificateAuthorityPort | undefined;
  readonly fleet: FleetView | undefined;
  /** The controller's serving state (undefined: the API runs without a controller). */
  readonly controller: ControllerPort | undefined;
  readonly dlp: DlpEnginePort | undefined;
  /** The filter's JSON Schema check of a DLP config (undefined when the schema file is not available). */
  readonly dlpConfigCheck: ((config: unknown) => readonly ProblemIssue[]) | undefined;
  /** Durable budget lease state (routes/budgets.ts); undefined: in memory. */
  readonly budgetLeaseState: LeaseStatePort | undefined;
  /** Telemetry, alerts, guarded rollouts and reports (routes/closed-loop.ts); those routes answer 503 without it. */
  readonly closedLoop?: ClosedLoopPort;
}
