/**
 * Mesh-wide settings: the SPIFFE trust domain every identity lives in and the default mTLS mode.
 *
 * Plain data (JSON-serialisable, no protobuf), owned by the store; translate/ and the CA only read it.
 */

/**
 * How a workload's inbound listener treats peers, as Istio's PeerAuthentication does.
 * - `STRICT`: only mTLS connections with a client certificate from the mesh CA are accepted.
 * - `PERMISSIVE`: both plaintext and mTLS are accepted on the same port (for migration); plaintext
 *   callers have no identity, so only authorization rules without `from` principals can allow them.
 */
export type MtlsMode = 'STRICT' | 'PERMISSIVE';

export const MTLS_MODES: readonly MtlsMode[] = ['STRICT', 'PERMISSIVE'];

export interface MeshSettings {
  /**
   * SPIFFE trust domain, e.g. `meshward.local` (lower-case DNS-like name, no scheme, no port).
   * Every workload identity is `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>`.
   */
  readonly trustDomain: string;
  /** Mesh-wide default mTLS mode. Defaults to `STRICT` when absent. */
  readonly mtlsMode?: MtlsMode;
  /**
   * Per-namespace mTLS mode, overriding `mtlsMode`; a workload's own `mtlsMode` overrides both.
   * Keys are namespace names.
   */
  readonly namespaceMtlsModes?: Readonly<Record<string, MtlsMode>>;
  /**
   * Access logging to the control plane's gRPC access log service (cluster `meshward_als`, defined
   * statically in every bootstrap). Defaults to enabled.
   */
  readonly accessLog?: {
    readonly enabled?: boolean;
  };
}

/** The default mTLS mode when neither workload, namespace nor mesh settings name one. */
export const DEFAULT_MTLS_MODE: MtlsMode = 'STRICT';
