/**
 * A compiled meshward filter module (.wasm) and where proxies load it from.
 * - `local`: a file on the proxy's host (e.g. `/etc/meshward/meshward.wasm`); `sha256` optional.
 * - `remote`: fetched by Envoy over HTTP(S) from `url` and verified against `sha256` (required:
 *   Envoy refuses remote code without it). The fetch goes through a cluster the control plane
 *   generates for the URL's host (see translate/).
 */
export type FilterModuleSource =
  | { readonly kind: 'local'; readonly path: string }
  | { readonly kind: 'remote'; readonly url: string; readonly timeoutMs?: number; readonly retries?: number };

export interface FilterModule {
  /** Unique in the mesh; `[a-z0-9]([-a-z0-9._]*[a-z0-9])?`, max 63. */
  readonly name: string;
  readonly source: FilterModuleSource;
  /** Lower-case hex SHA-256 of the module (64 chars). Required for `remote`. */
  readonly sha256?: string;
  /** Allow Envoy to use a precompiled form embedded in the module. Defaults to true. */
  readonly allowPrecompiled?: boolean;
}
