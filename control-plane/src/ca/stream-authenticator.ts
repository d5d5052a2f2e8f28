/**
 * SEAM (1) of the xDS server, implemented: who is on the other end of an ADS stream.
 *
 * Credentials, in order:
 * 1. mTLS on the xDS connection: the client certificate grpc-js verified against the client CA
 *    (the trust bundle) is verified again here against the *current* bundle, the CA's clock, the
 *    register of issued certificates and revocation; its one URI SAN is the identity.
 * 2. A join token in the call metadata: `authorization: Bearer mwj_…` (preferred) or
 *    `x-meshward-join-token: mwj_…`. Exactly one token value may be present.
 * When a client certificate is presented but fails, a valid join token still admits the stream
 * (a workload whose certificate expired re-enrols); if both fail the error names both reasons.
 * A stream without either credential is refused with UNAUTHENTICATED; one whose identity is
 * blocked by a revocation with PERMISSION_DENIED. Messages never contain a token.
 */
import { XdsError } from '../xds/errors.js';
import type { Authenticate, AuthorizeNode, StreamAuthContext, StreamIdentity } from '../xds/stream-auth.js';
import { CaError } from './ca-error.js';
import type { MeshCa } from './mesh-ca.js';

/** Metadata key of the join token when `authorization` is used for something else. */
export const JOIN_TOKEN_METADATA_KEY = 'x-meshward-join-token';

export interface StreamAuthenticatorOptions {
  /** Accept join tokens. Defaults to true. */
  readonly allowJoinTokens?: boolean;
  /** Accept client certificates. Defaults to true. */
  readonly allowMtls?: boolean;
}

function toXdsError(err: unknown): XdsError {
  if (err instanceof XdsError) return err;
  if (err instanceof CaError && err.code === 'PERMISSION_DENIED') return new XdsError('PERMISSION_DENIED', err.message);
  return new XdsError('UNAUTHENTICATED', err instanceof Error ? err.message : String(err));
}

/** Extracts the join token from the metadata; undefined when none; throws when ambiguous. */
export function joinTokenFromMetadata(ctx: Pick<StreamAuthContext, 'metadata'>): string | undefined {
  const tokens: string[] = [];
  for (const v of ctx.metadata.get('authorization')) {
    const s = typeof v === 'string' ? v : v.toString('utf8');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(s);
    if (!m) throw new XdsError('UNAUTHENTICATED', "authorization metadata must be 'Bearer <join token>'");
    tokens.push(m[1]!);
  }
  for (const v of ctx.metadata.get(JOIN_TOKEN_METADATA_KEY)) tokens.push((typeof v === 'string' ? v : v.toString('utf8')).trim());
  if (tokens.length > 1) throw new XdsError('UNAUTHENTICATED', 'more than one join token was presented; send exactly one');
  return tokens[0];
}

export function createStreamAuthenticator(meshCa: MeshCa, options: StreamAuthenticatorOptions = {}): Authenticate {
  const allowJoinTokens = options.allowJoinTokens ?? true;
  const allowMtls = options.allowMtls ?? true;
  return async (ctx): Promise<StreamIdentity> => {
    let certError: XdsError | undefined;
    const raw = ctx.peerCertificate?.raw;
    if (allowMtls && raw !== undefined && raw.length > 0) {
      try {
        const peer = await meshCa.verifyPeerCertificate(raw);
        return {
          id: peer.identity.spiffeId,
          method: 'mtls',
          attributes: {
            trustDomain: peer.identity.trustDomain,
            namespace: peer.identity.namespace,
            serviceAccount: peer.identity.serviceAccount,
            certificateSerial: peer.serialNumber,
          },
        };
      } catch (err) {
        certError = toXdsError(err);
        meshCa.metrics.authFailure('mtls');
      }
    }
    let token: string | undefined;
    try {
      token = allowJoinTokens ? joinTokenFromMetadata(ctx) : undefined;
    } catch (err) {
      meshCa.metrics.authFailure('join_token');
      throw certError ? new XdsError('UNAUTHENTICATED', `${certError.message}; ${(err as Error).message}`) : err;
    }
    if (token === undefined) {
      if (certError) throw certError;
      meshCa.metrics.authFailure('none');
      throw new XdsError(
        'UNAUTHENTICATED',
        allowJoinTokens
          ? "no credential: present a join token ('authorization: Bearer mwj_…') or a client certificate issued by the mesh CA"
          : 'no credential: present a client certificate issued by the mesh CA',
      );
    }
    try {
      const record = await meshCa.joinTokens.verify(token);
      if (meshCa.isBlocked(record.spiffeId)) {
        throw new CaError('PERMISSION_DENIED', `identity ${record.spiffeId} is blocked: its certificate was revoked`);
      }
      const identity = meshCa.parseIdentity(record.spiffeId);
      return {
        id: identity.spiffeId,
        method: 'join-token',
        attributes: {
          trustDomain: identity.trustDomain,
          namespace: identity.namespace,
          serviceAccount: identity.serviceAccount,
          joinTokenId: record.tokenId,
        },
      };
    } catch (err) {
      meshCa.metrics.authFailure('join_token');
      const e = toXdsError(err);
      if (certError && e.code === 'UNAUTHENTICATED') throw new XdsError('UNAUTHENTICATED', `${certError.message}; ${e.message}`);
      throw e;
    }
  };
}

export interface NodeAuthorizerOptions {
  /**
   * Resolves a workload key (`<namespace>/<name>`, node metadata `meshward.workload`) to the
   * SPIFFE ID the model gives it. When set, a node naming a workload must be that workload's
   * identity, and a node naming an unknown workload is refused.
   */
  readonly workloadIdentityOf?: (workloadKey: string) => string | undefined;
}

/**
 * Node check for the xDS server's `authorizeNode`: a node may not claim to be someone else.
 * - node metadata `meshward.identity` (or `identity`), when present, must equal the stream's identity;
 * - node metadata `meshward.workload`, with `workloadIdentityOf`, must resolve to the stream's identity.
 */
export function createNodeAuthorizer(options: NodeAuthorizerOptions = {}): AuthorizeNode {
  return (identity, node) => {
    if (!identity) return;
    const metadata = (node.metadata ?? {}) as Readonly<Record<string, unknown>>;
    for (const key of ['meshward.identity', 'identity']) {
      const v = metadata[key];
      if (v !== undefined && v !== identity.id) {
        throw new XdsError('PERMISSION_DENIED', `node metadata ${key} '${String(v)}' does not match the stream's identity ${identity.id}`);
      }
    }
    const workload = metadata['meshward.workload'];
    if (options.workloadIdentityOf && workload !== undefined) {
      const expected = typeof workload === 'string' ? options.workloadIdentityOf(workload) : undefined;
      if (expected === undefined) throw new XdsError('PERMISSION_DENIED', `node metadata meshward.workload '${String(workload)}' names no known workload`);
      if (expected !== identity.id) {
        throw new XdsError('PERMISSION_DENIED', `workload '${workload as string}' runs as ${expected}, not as the stream's identity ${identity.id}`);
      }
    }
  };
}
