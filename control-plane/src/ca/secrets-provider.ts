/**
 * SEAM (2) of the xDS server, implemented: the SDS secrets of one identity.
 *
 * - `default`: `tls_certificate` with the workload's chain (leaf + intermediates) and private
 *   key, inline. Only ever built for the identity the stream authenticated as.
 * - `ROOTCA`: `validation_context` with `trusted_ca` = the trust bundle's roots (old + new during a
 *   CA rotation), `crl` = one CRL per authority with `only_verify_leaf_cert_crl` (so revocations
 *   reach peers at the next push, and an operator root without a CRL still validates).
 *   Deliberately *no* `match_typed_subject_alt_names`: translate/ puts the SAN check in the
 *   `combined_validation_context`'s default context, and Envoy merges the SDS context into it
 *   with protobuf MergeFrom, which appends repeated fields, so any matcher here would be OR'ed
 *   with (and weaken) the listener's or cluster's own, stricter one.
 */
import { create } from '@bufbuild/protobuf';
import { DataSourceSchema } from '../gen/envoy/config/core/v3/base_pb.js';
import { CertificateValidationContextSchema, TlsCertificateSchema } from '../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { SecretSchema, type Secret } from '../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { TRUST_BUNDLE_SECRET, WORKLOAD_CERT_SECRET, type SecretSource } from '../xds/secret-source.js';
import type { StreamIdentity } from '../xds/stream-auth.js';
import { CaError } from './ca-error.js';
import type { IssuedSvid } from './certificate-authority.js';
import type { MeshCa } from './mesh-ca.js';
import type { TrustBundle } from './trust-bundle.js';

export { TRUST_BUNDLE_SECRET, WORKLOAD_CERT_SECRET };

const inline = (text: string) => create(DataSourceSchema, { specifier: { case: 'inlineBytes', value: Buffer.from(text, 'utf8') } });

/** The `default` secret for an issued certificate. */
export function workloadCertificateSecret(svid: IssuedSvid): Secret {
  return create(SecretSchema, {
    name: WORKLOAD_CERT_SECRET,
    type: {
      case: 'tlsCertificate',
      value: create(TlsCertificateSchema, { certificateChain: inline(svid.certificateChainPem), privateKey: inline(svid.privateKeyPem) }),
    },
  });
}

/** The `ROOTCA` secret for a trust bundle. */
export function trustBundleSecret(bundle: TrustBundle): Secret {
  return create(SecretSchema, {
    name: TRUST_BUNDLE_SECRET,
    type: {
      case: 'validationContext',
      value: create(CertificateValidationContextSchema, {
        trustedCa: inline(bundle.rootsPem),
        crl: inline(bundle.crlsPem),
        onlyVerifyLeafCertCrl: true,
      }),
    },
  });
}

export interface SecretsProvider extends SecretSource {
  /**
   * Wires change signals to the xDS server: `notify(id)` for one identity, `notify()` for all.
   * Returns the unsubscribe function.
   */
  connect(notify: (identityId?: string) => unknown): () => void;
}

export function createSecretsProvider(meshCa: MeshCa): SecretsProvider {
  let bundleSecret: { version: string; secret: Secret } | undefined;
  const rootCa = (): Secret => {
    const b = meshCa.bundle();
    if (bundleSecret?.version !== b.version) bundleSecret = { version: b.version, secret: trustBundleSecret(b) };
    return bundleSecret.secret;
  };
  return {
    async secretsFor(identity: StreamIdentity) {
      if (identity.method !== 'mtls' && identity.method !== 'join-token') {
        throw new CaError('PERMISSION_DENIED', `identity ${identity.id} was not established by the mesh CA authenticator`);
      }
      const workload = meshCa.parseIdentity(identity.id, 'identity.id');
      const svid = await meshCa.currentCertificate(workload);
      if (svid.identity.spiffeId !== identity.id) throw new CaError('PERMISSION_DENIED', 'certificate identity mismatch');
      return [workloadCertificateSecret(svid), rootCa()];
    },
    connect(notify) {
      return meshCa.onSecretsChanged((ids) => {
        if (ids === undefined) void notify();
        else for (const id of ids) void notify(id);
      });
    },
  };
}
