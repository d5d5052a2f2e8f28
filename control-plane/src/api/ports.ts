import type { MeshCa } from '../ca/mesh-ca.js';
import type { Controller } from '../controller/controller.js';

/**
 * The API's view of collaborators owned by other modules (the CA, the DLP filter engine): the
 * smallest surface the routes need, so they can be tested with the real modules over in-memory
 * state and the modules can evolve behind them.
 */

/**
 * What the API uses of the mesh CA (control-plane/src/ca/mesh-ca.ts): the real MeshCa satisfies it;
 * tests may pass a real one over in-memory stores.
 */
export type CertificateAuthorityPort = Pick<
  MeshCa,
  | 'trustDomain'
  | 'listCertificates'
  | 'getCertificate'
  | 'revokeCertificate'
  | 'authorities'
  | 'rotateCa'
  | 'rotationStatus'
  | 'issueJoinToken'
  | 'revokeJoinToken'
  | 'listJoinTokens'
>;

/**
 * What the API reads of the controller (control-plane/src/controller/controller.ts): its serving
 * state — published revision, per-group snapshot versions (per type), failures — for
 * `GET /v1/controller` and the fleet's `inSync`.
 */
export type ControllerPort = Pick<Controller, 'status'>;

/** A finding of the filter, as the dry run reports it. */
export interface DlpFinding {
  readonly detector: string;
  readonly action?: string;
  readonly [key: string]: unknown;
}

export interface DlpDryRunResult {
  /** `allow` | `alert` | `redact` | `block` (the filter's verdict). */
  readonly verdict: string;
  readonly findings: readonly DlpFinding[];
  /** HTTP status the proxy would answer with when it blocks (local reply), else undefined. */
  readonly localReply?: { readonly status: number; readonly body: string; readonly headers: Readonly<Record<string, string>> };
  /** The request body as the upstream would receive it (redacted), when not blocked. */
  readonly output?: string;
  /** The filter's log lines during the run (for troubleshooting a policy). */
  readonly logs: readonly string[];
}

/**
 * Runs the real compiled filter: checks a configuration by the filter's own configure step, and
 * dry-runs a configuration over a sample payload.
 */
export interface DlpEnginePort {
  /** Undefined when the filter accepts `config`; otherwise the reason it refused it. */
  checkConfig(config: unknown): Promise<string | undefined>;
  dryRun(input: {
    config: unknown;
    payload: string;
    contentType: string;
    path: string;
    direction: 'request' | 'response';
    /** The caller's SPIFFE ID as the proxy would see it (for per-principal rules); none when absent. */
    principal?: string;
  }): Promise<DlpDryRunResult>;
}
