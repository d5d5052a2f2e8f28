import type { Secret } from '../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import type { StreamIdentity } from './stream-auth.js';

/** Name of the workload certificate + private key secret (`tls_certificate`). */
export const WORKLOAD_CERT_SECRET = 'default';
/** Name of the trust bundle secret (`validation_context`). */
export const TRUST_BUNDLE_SECRET = 'ROOTCA';

/**
 * SEAM (2) for the CA: where SDS secrets come from. The xDS server never takes secrets from group
 * snapshots; a stream's SDS requests are answered only from `secretsFor(stream identity)`.
 *
 * Contract:
 *  - Return only material that belongs to `identity` (its own `default` key pair and the shared
 *    `ROOTCA` trust bundle). The server caches the result per `identity.id` and shares it among the
 *    streams of that identity; it calls again only after `XdsServer.notifySecretsChanged(id)`.
 *  - Refusing the identity — throwing an error whose `code` is 'PERMISSION_DENIED' or
 *    'UNAUTHENTICATED' (XdsError, or e.g. the CA's CaError for a revoked identity) — ENDS every
 *    open stream of that identity with that gRPC status and message (on the first load, or on the
 *    re-read after `notifySecretsChanged(id)`); nothing of it stays cached.
 *  - Any other throw (a transient failure) leaves the identity's streams with what they had and is
 *    reported through `XdsServerOptions.onError`; it is retried on the next notification.
 *  - Streams without an identity (no `authenticate` configured) never receive any secret.
 */
export interface SecretSource {
  secretsFor(identity: StreamIdentity): Promise<readonly Secret[]> | readonly Secret[];
}
