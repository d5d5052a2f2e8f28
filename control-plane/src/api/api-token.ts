import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiRole, ApiToken, Store } from '../store/store.js';

/**
 * REST API bearer tokens: `mw_<id>_<secret>`, where `id` (16 hex chars) is public and names the
 * token in listings and the audit trail, and `secret` is 32 random bytes (base64url). Only the
 * SHA-256 of the secret is stored: the secret has 256 bits of entropy, so a slow password hash
 * would add cost per request and no protection.
 */
const TOKEN_RE = /^mw_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface IssuedToken {
  /** The full bearer token. Shown once; not recoverable afterwards. */
  readonly token: string;
  readonly record: ApiToken;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Creates and stores a new token. Throws the store's ALREADY_EXISTS if the name is taken. */
export function issueApiToken(
  store: Store,
  init: { name: string; role: ApiRole; expiresAt?: string; actor: string },
): IssuedToken {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const record = store.tokens.create(
    {
      id,
      name: init.name,
      role: init.role,
      secretHash: hashSecret(secret),
      createdBy: init.actor,
      expiresAt: init.expiresAt,
    },
    init.actor,
  );
  return { token: `mw_${id}_${secret}`, record };
}

export type TokenCheck =
  | { readonly ok: true; readonly token: ApiToken }
  | { readonly ok: false; readonly reason: 'malformed' | 'unknown' | 'revoked' | 'expired' };

/** Verifies a presented bearer token against the store (constant-time on the secret). */
export function verifyApiToken(store: Store, presented: string, now: Date): TokenCheck {
  const m = TOKEN_RE.exec(presented);
  if (m === null) return { ok: false, reason: 'malformed' };
  const record = store.tokens.get(m[1]!);
  // Hash even when the id is unknown so timing does not reveal which ids exist.
  const presentedHash = Buffer.from(hashSecret(m[2]!), 'hex');
  if (record === undefined) return { ok: false, reason: 'unknown' };
  const storedHash = Buffer.from(record.secretHash, 'hex');
  if (storedHash.length !== presentedHash.length || !timingSafeEqual(storedHash, presentedHash)) {
    return { ok: false, reason: 'unknown' };
  }
  if (record.revokedAt !== undefined) return { ok: false, reason: 'revoked' };
  if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= now.getTime()) {
    return { ok: false, reason: 'expired' };
  }
  return { ok: true, token: record };
}
