/**
 * SEAM (2) of the xDS server, implemented: the SDS secrets of one identity.
 *
 * - `default`: `tls_certificate` with the workload's chain (leaf + intermediates) and private
 *   key, inline. Only ever built for the identity the stream authenticated as.
 * - `ROOTCA`: `validation_context` with `trusted_ca` = the trust bundle's roots (old + new during a
 *   CA rotation), `crl` = one CRL per authority with `only_verify_leaf_cert_crl` (so revocations
 *   reach peers at the next push, and an operator root without a CRL still validates), and a SAN
 *   matcher that admits only URI SANs of this trust domain (an operator root may sign other things).
 */
import { create } from '@bufbuild/protobuf';
import { DataSourceSchema } from '../gen/envoy/config/core/v3/base_pb.js';
import {
  CertificateValidationContextSchema,
  SubjectAltNameMatcher_SanType,
  SubjectAltNameMatcherSchema,
  TlsCertificateSchema,
} from '../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { SecretSchema, type Secret } from '../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { StringMatcherSchema } from '../gen/envoy/type/matcher/v3/string_pb.js';
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
        matchTypedSubjectAltNames: [
          create(SubjectAltNameMatcherSchema, {
            sanType: SubjectAltNameMatcher_SanType.URI,
            matcher: create(StringMatcherSchema, { matchPattern: { case: 'prefix', value: `spiffe://${bundle.trustDomain}/` } }),
          }),
        ],
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
