/**
 * Join tokens: how a workload proves its identity before it has a certificate.
 *
 * A token is `mwj_` + 43 base64url characters (256 random bits), issued for exactly one SPIFFE ID,
 * shown once at issue time and stored only as its SHA-256 (hex). It is presented in the xDS
 * stream's gRPC metadata as `authorization: Bearer mwj_…` (or `x-meshward-join-token: mwj_…`),
 * may be used for as many streams as needed until it expires or is revoked, and admits only its
 * identity.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { CaError } from './ca-error.js';
import type { Clock } from './clock.js';
import type { JoinTokenRecord, JoinTokenStore } from './join-token-store.js';
import type { WorkloadIdentity } from './workload-identity.js';

export const JOIN_TOKEN_PREFIX = 'mwj_';
const TOKEN_SHAPE = /^mwj_[A-Za-z0-9_-]{43}$/;

export interface JoinTokensOptions {
  readonly store: JoinTokenStore;
  readonly clock: Clock;
  /** Default token lifetime. Defaults to 24 h. */
  readonly defaultTtlMs?: number;
  /** Longest lifetime a caller may ask for. Defaults to 30 days. */
  readonly maxTtlMs?: number;
}

export interface IssuedJoinToken {
  /** The secret; returned only here, never stored or logged. */
  readonly token: string;
  readonly record: JoinTokenRecord;
}

export interface JoinTokens {
  issue(identity: WorkloadIdentity, options?: { readonly ttlMs?: number; readonly description?: string }): Promise<IssuedJoinToken>;
  /**
   * Checks a presented token: well-formed, known, not expired, not revoked. Records `lastUsedAt`.
   * @throws CaError UNAUTHENTICATED (the message never contains the token).
   */
  verify(token: string): Promise<JoinTokenRecord>;
  /** @throws CaError NOT_FOUND */
  revoke(tokenId: string): Promise<JoinTokenRecord>;
  /** Revokes every unrevoked token of the identity; returns how many. */
  revokeAllFor(spiffeId: string): Promise<number>;
  list(filter?: { readonly spiffeId?: string }): Promise<readonly JoinTokenRecord[]>;
  get(tokenId: string): Promise<JoinTokenRecord | undefined>;
  /** Forgets tokens that expired before `beforeMs`. */
  pruneExpired(beforeMs: number): Promise<number>;
}

export function hashJoinToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function createJoinTokens(options: JoinTokensOptions): JoinTokens {
  const { store, clock } = options;
  const defaultTtl = options.defaultTtlMs ?? 24 * 3600 * 1000;
  const maxTtl = options.maxTtlMs ?? 30 * 24 * 3600 * 1000;
  return {
    async issue(identity, issueOptions = {}) {
      const ttl = issueOptions.ttlMs ?? defaultTtl;
      if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 1000 || ttl > maxTtl) {
        throw new CaError('INVALID_ARGUMENT', `ttlMs: must be between 1000 and ${maxTtl} milliseconds`);
      }
      if (issueOptions.description !== undefined && (typeof issueOptions.description !== 'string' || issueOptions.description.length > 256)) {
        throw new CaError('INVALID_ARGUMENT', 'description: must be a string of at most 256 characters');
      }
      const token = JOIN_TOKEN_PREFIX + randomBytes(32).toString('base64url');
      const tokenHash = hashJoinToken(token);
      const now = clock.now();
      const record: JoinTokenRecord = {
        tokenId: tokenHash.slice(0, 16),
        tokenHash,
        spiffeId: identity.spiffeId,
        createdAt: new Date(now).toISOString(),
        expiresAt: new Date(now + ttl).toISOString(),
        ...(issueOptions.description !== undefined ? { description: issueOptions.description } : {}),
      };
      await store.add(record);
      return { token, record };
    },

    async verify(token) {
      if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) {
        throw new CaError('UNAUTHENTICATED', `join token is malformed (expected '${JOIN_TOKEN_PREFIX}' followed by 43 base64url characters)`);
      }
      const presented = Buffer.from(hashJoinToken(token), 'hex');
      const record = await store.getByHash(presented.toString('hex'));
      // The lookup is by hash (a pre-image of a 256-bit random secret); compare in constant time anyway.
      if (!record || !timingSafeEqual(Buffer.from(record.tokenHash, 'hex'), presented)) {
        throw new CaError('UNAUTHENTICATED', 'join token is not known to this control plane');
      }
      if (record.revokedAt !== undefined) throw new CaError('UNAUTHENTICATED', `join token ${record.tokenId} was revoked`);
      const now = clock.now();
      if (now >= Date.parse(record.expiresAt)) throw new CaError('UNAUTHENTICATED', `join token ${record.tokenId} expired at ${record.expiresAt}`);
      const used = { ...record, lastUsedAt: new Date(now).toISOString() };
      await store.update(used);
      return used;
    },

    async revoke(tokenId) {
      const record = typeof tokenId === 'string' ? await store.get(tokenId) : undefined;
      if (!record) throw new CaError('NOT_FOUND', `tokenId: no join token '${String(tokenId)}'`);
      if (record.revokedAt !== undefined) return record;
      const revoked = { ...record, revokedAt: new Date(clock.now()).toISOString() };
      await store.update(revoked);
      return revoked;
    },

    async revokeAllFor(spiffeId) {
      let n = 0;
      const at = new Date(clock.now()).toISOString();
      for (const r of await store.list({ spiffeId })) {
        if (r.revokedAt === undefined) {
          await store.update({ ...r, revokedAt: at });
          n++;
        }
      }
      return n;
    },

    list: (filter) => store.list(filter),
    get: (tokenId) => store.get(tokenId),
    pruneExpired: (before) => store.pruneExpired(before),
  };
}
