/**
 * The trust bundle: an immutable, versioned snapshot of what every workload trusts. It becomes the
 * `ROOTCA` secret (validation_context) of every identity.
 */
import type { AuthorityRole } from './ca-store.js';

export interface TrustBundle {
  readonly trustDomain: string;
  /** Monotonic (persisted across restarts); changes whenever roots or CRLs change. */
  readonly version: string;
  /** Distinct trust anchors, PEM, in authority order (active first). */
  readonly roots: readonly string[];
  /** `roots` concatenated: Envoy's `trusted_ca`, `openssl verify -CAfile`. */
  readonly rootsPem: string;
  /** One CRL per authority in the bundle, PEM, concatenated: Envoy's `crl`. */
  readonly crlsPem: string;
  /** Authorities whose leaves validate against this bundle, with their role. */
  readonly authorities: readonly { readonly id: string; readonly role: AuthorityRole }[];
  /** ISO time the bundle was built. */
  readonly builtAt: string;
}
