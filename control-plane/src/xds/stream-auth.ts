import type { PeerCertificate } from 'node:tls';
import type { Metadata } from '@grpc/grpc-js';
import type { Node } from '../gen/envoy/config/core/v3/base_pb.js';

/**
 * Who is on the other end of an ADS stream, as established by {@link Authenticate}. `id` keys the
 * per-identity secrets (SDS) and appears in the fleet view; for workloads it is the SPIFFE ID.
 */
export interface StreamIdentity {
  /** Stable identity key, e.g. `spiffe://mesh.local/ns/prod/sa/model-a`. Must be non-empty. */
  readonly id: string;
  /** How the identity was proven, for operators: e.g. `mtls`, `join-token`. */
  readonly method?: string;
  /** Free-form, read-only attributes the authenticator wants the fleet view to show. */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** What the authenticator sees when a stream starts, before any request is read. */
export interface StreamAuthContext {
  /** The call's gRPC request metadata (e.g. `authorization: Bearer <join token>`). */
  readonly metadata: Metadata;
  /**
   * The client certificate of the xDS connection when it is TLS and the client presented a
   * certificate that verified against the server's client CA (grpc-js only reports verified
   * certificates). `raw` holds the DER bytes of the leaf.
   */
  readonly peerCertificate: PeerCertificate | undefined;
  /** 'ssl' for TLS connections, undefined for plaintext. */
  readonly transportSecurityType: string | undefined;
  /** grpc-js peer string, `ip:port`. */
  readonly peer: string;
  /** 'sotw' for StreamAggregatedResources, 'delta' for DeltaAggregatedResources. */
  readonly protocol: 'sotw' | 'delta';
}

/**
 * SEAM (1) for the CA: proves a stream's identity at stream start. Resolve with the identity, or
 * throw: an `XdsError` with code `UNAUTHENTICATED` or `PERMISSION_DENIED` ends the stream with that
 * gRPC status and its message; anything else ends it with UNAUTHENTICATED. A stream that fails
 * authentication receives no response at all.
 */
export type Authenticate = (ctx: StreamAuthContext) => Promise<StreamIdentity> | StreamIdentity;

/**
 * Optional check run once the first request reveals the node: e.g. that the node id or metadata
 * matches the identity. Throw an `XdsError('PERMISSION_DENIED', …)` to end the stream.
 */
export type AuthorizeNode = (identity: StreamIdentity | undefined, node: Node) => Promise<void> | void;
