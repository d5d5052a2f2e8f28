/**
 * Authorization as the proxies enforce it (Envoy RBAC / gRPC xDS RBAC).
 *
 * Semantics: default deny. A request is allowed when at least one enforced rule of at least one
 * policy that applies to it matches. A rule matches when every one of its non-empty conditions
 * matches (from AND to AND headers AND models AND when); within a condition, any entry matches (OR).
 * Dry-run policies never allow or deny: they are evaluated as RBAC shadow rules, whose results show
 * in their own stats (`<stat prefix>shadow_allowed` / `shadow_denied`) and in dynamic metadata.
 */

/** Named operation sets; see {@link OPERATION_SETS}. */
export type OperationSetName = 'infer' | 'read_models' | 'admin';
export const OPERATION_SET_NAMES: readonly OperationSetName[] = ['infer', 'read_models', 'admin'];

/**
 * One operation: methods (any if empty) on paths (any if empty). A path is exact (`/v1/embeddings`),
 * a prefix ending in `*` (`/v1/models*`), or has `*` segments matching one path segment
 * (`/v2/models/*\/infer`). Query strings are not part of the path.
 */
export interface Operation {
  readonly methods?: readonly string[];
  readonly paths?: readonly string[];
}

/**
 * The named operation sets. `infer` is OpenAI-compatible and KServe v2 inference; `read_models`
 * lists/reads models; `admin` writes models, files and fine-tuning jobs and Triton's repository API.
 * These names are public (API, CLI, explain output) and never change meaning once shipped.
 */
export const OPERATION_SETS: Readonly<Record<OperationSetName, readonly Operation[]>> = {
  infer: [
    {
      methods: ['POST'],
      paths: ['/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/responses', '/v2/models/*/infer',
        '/v2/models/*/versions/*/infer'],
    },
  ],
  read_models: [{ methods: ['GET'], paths: ['/v1/models*', '/v2/models*'] }],
  admin: [
    { methods: ['POST', 'PUT', 'PATCH', 'DELETE'], paths: ['/v1/models*', '/v1/files*', '/v1/fine_tuning*', '/v2/repository*'] },
    { paths: ['/admin*'] },
  ],
};

/** Header condition; exactly one of the match kinds applies per `op`. */
export interface HeaderCondition {
  /** Lower-case header name (pseudo-headers like `:authority` allowed). */
  readonly name: string;
  /** `present` ignores `value`; `regex` is RE2 syntax, matched against the whole value. */
  readonly op: 'exact' | 'prefix' | 'suffix' | 'contains' | 'regex' | 'present';
  readonly value?: string;
  /** Inverts the match (header absent or different). Defaults to false. */
  readonly invert?: boolean;
}

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/**
 * A recurring window in a time zone: on the listed days (all days if absent), from `start`
 * (inclusive) to `end` (exclusive), `HH:MM` 24 h. `end` <= `start` means the window runs past
 * midnight into the next day (the day listed is the day it starts). `end` `24:00` is end of day.
 * Proxies cannot read clocks in RBAC, so the control plane includes a timed rule only while a window
 * is open and re-translates at each transition (see time-window.ts).
 */
export interface TimeWindow {
  readonly days?: readonly Weekday[];
  readonly start: string;
  readonly end: string;
  /** IANA time zone, e.g. `Europe/Paris`. Defaults to `UTC`. */
  readonly timeZone?: string;
}

export interface AuthorizationRule {
  /**
   * Caller patterns (see PrincipalPattern in spiffe-id.ts): exact SPIFFE ID, `spiffe://td/ns/<ns>/*`,
   * `spiffe://td/*`, or `*` (any authenticated caller). Absent or empty: any caller, including
   * plaintext ones on PERMISSIVE listeners.
   */
  readonly from?: readonly string[];
  /** Named operation sets (OR with `operations`). Both absent: any operation. */
  readonly to?: readonly OperationSetName[];
  /** Extra operations (OR with `to`). */
  readonly operations?: readonly Operation[];
  /** All must match. */
  readonly headers?: readonly HeaderCondition[];
  /**
   * Models (ModelService.name) the rule is limited to: matched on the model header at a gateway
   * (and the filter enforces body/header agreement); at a sidecar or proxyless server the rule
   * applies only if it lists the model that workload serves. Absent: any model.
   */
  readonly models?: readonly string[];
  /** The rule applies only inside one of these windows (OR). Absent: always. */
  readonly when?: readonly TimeWindow[];
}

export interface AuthorizationPolicy {
  /** Unique in the mesh; `[a-z0-9]([-a-z0-9._]*[a-z0-9])?`, max 63. Also the RBAC policy name prefix. */
  readonly name: string;
  /** Only ALLOW: everything not allowed is denied. (Present so DENY can be added later.) */
  readonly action?: 'ALLOW';
  /** At least one rule. */
  readonly rules: readonly AuthorizationRule[];
  /**
   * Workloads the policy applies to as `<namespace>/<name>` or `<namespace>/*`. Absent: every
   * gateway and proxyless server (the entry points, where the peer is the end caller) but NOT
   * sidecars: a sidecar's peer is normally a gateway, so sidecars enforce only policies that select
   * them plus a synthetic rule admitting the gateways that expose their model. Use
   * `policyAppliesTo` / `effectiveRules` (authorize.ts) rather than re-implementing this.
   */
  readonly workloads?: readonly string[];
  /** Evaluate as RBAC shadow rules only (observe, never enforce). Defaults to false. */
  readonly dryRun?: boolean;
}
