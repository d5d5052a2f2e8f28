/**
 * A DLP policy: the meshward filter's JSON configuration, delivered through ECDS.
 * The control plane treats `config` as opaque here; the REST API validates it with the filter's own
 * schema before storing it.
 */

/** `global`: every route of every proxy. `model`: only that model's routes, in addition to global. */
export type DlpScope = { readonly kind: 'global' } | { readonly kind: 'model'; readonly model: string };

/**
 * What the proxy does when the filter cannot run (module fails to load or fetch, VM crash):
 * `FAIL_CLOSED` rejects the request (503), `FAIL_OPEN` lets it through unscanned.
 */
export type FailureMode = 'FAIL_CLOSED' | 'FAIL_OPEN';

export interface DlpPolicy {
  /** Unique in the mesh; `[a-z0-9]([-a-z0-9._]*[a-z0-9])?`, max 63. */
  readonly name: string;
  /** At most one policy per scope (one global, one per model). */
  readonly scope: DlpScope;
  /** The filter's configuration (a JSON object), passed verbatim as the plugin configuration. */
  readonly config: Readonly<Record<string, unknown>>;
  /** FilterModule.name to run. Defaults to the only module, or the one named `default`. */
  readonly module?: string;
  /** Defaults to `FAIL_CLOSED`: a DLP control that silently stops scanning is worse than an outage. */
  readonly failureMode?: FailureMode;
}
