/**
 * Transport sockets for mesh mTLS. Certificates and the trust bundle are never inlined: they are SDS
 * secrets fetched over ADS by name ({@link SECRET_WORKLOAD_CERT}, {@link SECRET_TRUST_BUNDLE}); the
 * CA serves each stream the secrets of its own identity. Peer identity is checked on the URI SAN.
 */
import { create } from '@bufbuild/protobuf';
import { TransportSocketSchema, type TransportSocket } from '../gen/envoy/config/core/v3/base_pb.js';
import {
  CommonTlsContextSchema,
  DownstreamTlsContextSchema,
  UpstreamTlsContextSchema,
  type CommonTlsContext,
} from '../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import {
  SubjectAltNameMatcherSchema,
  SubjectAltNameMatcher_SanType,
  TlsParameters_TlsProtocol,
  type SubjectAltNameMatcher,
} from '../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { SdsSecretConfigSchema, type SdsSecretConfig } from '../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import type { StringMatcher } from '../gen/envoy/type/matcher/v3/string_pb.js';
import { SECRET_TRUST_BUNDLE, SECRET_WORKLOAD_CERT, TRANSPORT_SOCKET_TLS } from './names.js';
import { adsConfigSource, packAny } from './proto-helpers.js';

/** An SDS reference by name over ADS. */
export function sdsSecret(name: string): SdsSecretConfig {
  return create(SdsSecretConfigSchema, { name, sdsConfig: adsConfigSource() });
}

/** Who the peer must be: exact SPIFFE IDs, or anyone in a trust domain. */
export type PeerIdentityMatch =
  | { readonly kind: 'exact'; readonly spiffeIds: readonly string[] }
  | { readonly kind: 'trustDomain'; readonly trustDomain: string };

function sanMatchers(peer: PeerIdentityMatch): SubjectAltNameMatcher[] {
  const matchers: { matchPattern: StringMatcher['matchPattern'] }[] =
    peer.kind === 'exact'
      ? peer.spiffeIds.map((id) => ({ matchPattern: { case: 'exact', value: id } }))
      : [{ matchPattern: { case: 'prefix', value: `spiffe://${peer.trustDomain}/` } }];
  return matchers.map((m) =>
    create(SubjectAltNameMatcherSchema, {
      sanType: SubjectAltNameMatcher_SanType.URI,
      matcher: m,
    }),
  );
}

/**
 * Common context: own cert from SDS `default`; validation = SDS `ROOTCA` combined with a static
 * SAN check (Envoy merges the two); TLS 1.2+.
 */
export function meshCommonTlsContext(peer: PeerIdentityMatch, alpn: readonly string[]): CommonTlsContext {
  return create(CommonTlsContextSchema, {
    tlsParams: { tlsMinimumProtocolVersion: TlsParameters_TlsProtocol.TLSv1_2 },
    tlsCertificateSdsSecretConfigs: [sdsSecret(SECRET_WORKLOAD_CERT)],
    validationContextType: {
      case: 'combinedValidationContext',
      value: {
        defaultValidationContext: { matchTypedSubjectAltNames: sanMatchers(peer) },
        validationContextSdsSecretConfig: sdsSecret(SECRET_TRUST_BUNDLE),
      },
    },
    alpnProtocols: [...alpn],
  });
}

/**
 * Server side of mesh mTLS: a client certificate is required (STRICT, and the TLS chain of a
 * PERMISSIVE listener) and must carry a URI SAN of the trust domain. Authorization of *which*
 * identity is RBAC's job, not the handshake's.
 */
export function downstreamMtlsSocket(trustDomain: string): TransportSocket {
  return create(TransportSocketSchema, {
    name: TRANSPORT_SOCKET_TLS,
    configType: {
      case: 'typedConfig',
      value: packAny(DownstreamTlsContextSchema, {
        commonTlsContext: meshCommonTlsContext({ kind: 'trustDomain', trustDomain }, ['h2', 'http/1.1']),
        requireClientCertificate: true,
      }),
    },
  });
}

/** Client side of mesh mTLS towards a model version; `http2` picks the ALPN offered. */
export function upstreamMtlsSocket(peer: PeerIdentityMatch, http2: boolean, sni?: string): TransportSocket {
  return create(TransportSocketSchema, {
    name: TRANSPORT_SOCKET_TLS,
    configType: {
      case: 'typedConfig',
      value: packAny(UpstreamTlsContextSchema, {
        commonTlsContext: meshCommonTlsContext(peer, http2 ? ['h2'] : ['http/1.1']),
        ...(sni !== undefined ? { sni } : {}),
      }),
    },
  });
}

/** Plain TLS with the system trust store, for fetching a remote Wasm module over https. */
export function upstreamPublicTlsSocket(sni: string): TransportSocket {
  return create(TransportSocketSchema, {
    name: TRANSPORT_SOCKET_TLS,
    configType: {
      case: 'typedConfig',
      value: packAny(UpstreamTlsContextSchema, {
        sni,
        commonTlsContext: {
          validationContextType: { case: 'validationContext', value: { systemRootCerts: {} } },
        },
      }),
    },
  });
}
