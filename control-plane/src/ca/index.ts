/**
 * meshward's certificate authority: SPIFFE workload identities (X.509-SVIDs), rotation, join
 * tokens, SDS secrets and xDS stream authentication. Wiring only; each concept lives in its file.
 *
 * Typical wiring:
 * ```ts
 * const dir = '/var/lib/meshward/ca';
 * const meshCa = await createMeshCa({
 *   trustDomain: 'mesh.local',
 *   store: createFileCaStore({ dir }),          // keys 0600; MESHWARD_CA_KEY_PASSPHRASE encrypts them
 *   certificates: await createFileIssuedCertificateStore(dir),
 *   joinTokenStore: await createFileJoinTokenStore(dir),
 *   registry,                                   // prom-client
 * });
 * const serving = await meshCa.servingCertificate({ dnsNames: ['meshward.example'] });
 * const creds = createXdsServerCredentials({ mode: 'tls', ...serving.current(), clientCertificates: 'optional' });
 * serving.onChange((m) => creds.update(m));
 * const secrets = createSecretsProvider(meshCa);
 * const xds = createXdsServer({ cache, authenticate: createStreamAuthenticator(meshCa), authorizeNode: createNodeAuthorizer(), secrets });
 * secrets.connect((id) => xds.notifySecretsChanged(id));
 * trackStreamActivity(meshCa, xds.fleet);
 * await xds.listen({ port: 18000, credentials: creds });
 * const { token } = await meshCa.issueJoinToken('spiffe://mesh.local/ns/prod/sa/model-a'); // hand to the workload
 * ```
 */
export { CaError, grpcStatusOfCaError, type CaErrorCode } from './ca-error.js';
export { createSystemClock, createManualClock, type Clock, type ClockTimer, type ManualClock } from './clock.js';
export { KEY_ALGORITHMS, type KeyAlgorithm } from './key-material.js';
export { assertTrustDomain, parseWorkloadIdentity, workloadIdentity, type WorkloadIdentity } from './workload-identity.js';
export type { AuthorityInfo, AuthoritySource } from './authority.js';
export type { OperatorCaFiles } from './operator-ca.js';
export type { TrustBundle } from './trust-bundle.js';
export { createMemoryCaStore, type CaStore, type StoredCaState, type StoredAuthority, type StoredRotation, type AuthorityRole } from './ca-store.js';
export { createFileCaStore, CA_KEY_PASSPHRASE_ENV, type FileCaStoreOptions } from './file-ca-store.js';
export { encryptPrivateKey, decryptPrivateKey } from './key-encryption.js';
export {
  createMemoryIssuedCertificateStore,
  type IssuedCertificateStore,
  type IssuedCertificateRecord,
  type CertificateStatus,
  type CertificateQuery,
  type CertificatePage,
} from './issued-certificate-store.js';
export { createMemoryJoinTokenStore, type JoinTokenStore, type JoinTokenRecord } from './join-token-store.js';
export { createFileIssuedCertificateStore, createFileJoinTokenStore, type FileRecordStore } from './file-record-stores.js';
export { JOIN_TOKEN_PREFIX, hashJoinToken, type IssuedJoinToken, type JoinTokens } from './join-tokens.js';
export {
  createCertificateAuthority,
  type CertificateAuthority,
  type CertificateAuthorityOptions,
  type IssuedSvid,
  type VerifiedPeer,
  type AuthorityView,
} from './certificate-authority.js';
export {
  createMeshCa,
  type MeshCa,
  type MeshCaOptions,
  type CaRotationStatus,
  type SecretsChangedListener,
  type ServingCertificate,
  type ServingCertificateOptions,
  type ServingMaterial,
} from './mesh-ca.js';
export { createCaMetrics, type CaMetrics } from './ca-metrics.js';
export {
  createStreamAuthenticator,
  createNodeAuthorizer,
  joinTokenFromMetadata,
  JOIN_TOKEN_METADATA_KEY,
  type StreamAuthenticatorOptions,
  type NodeAuthorizerOptions,
} from './stream-authenticator.js';
export {
  createSecretsProvider,
  workloadCertificateSecret,
  trustBundleSecret,
  WORKLOAD_CERT_SECRET,
  TRUST_BUNDLE_SECRET,
  type SecretsProvider,
} from './secrets-provider.js';
export { trackStreamActivity, type StreamActivityOptions } from './stream-activity.js';
