import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiToken, Store } from '../store/store.js';
import { issueApiToken, verifyApiToken } from './api-token.js';

/** File name of the bootstrap admin token inside the data directory. */
export const ADMIN_TOKEN_FILE = 'admin-token';

export interface BootstrapResult {
  /** True when this call created the token (first start); false when tokens already existed. */
  readonly created: boolean;
  /** Where the token was written (also returned when it already existed from an earlier start). */
  readonly path: string;
  /** Id of the created token (undefined when nothing was created). */
  readonly tokenId?: string;
}

/**
 * First start: when the store holds no API token at all, creates an `admin` token named
 * `bootstrap-admin`, writes it (with a trailing newline) to `<dataDir>/admin-token` with mode 0600
 * (the directory is created with 0700 if missing), and returns where. Later starts change nothing.
 * The caller prints `path`; the token itself is never logged.
 * A stale file left by an earlier, deleted database is replaced (its token no longer works), and
 * the mode is forced to 0600 even if the file existed with wider permissions.
 */
export function bootstrapAdminToken(store: Store, dataDir: string): BootstrapResult {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  if (store.tokens.count() > 0) return { created: false, path };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const issued = issueApiToken(store, { name: 'bootstrap-admin', role: 'admin', actor: 'system:bootstrap' });
  writeFileSync(path, `${issued.token}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return { created: true, path, tokenId: issued.record.id };
}

/** File name of the proxies' budget-lease token inside the data directory. */
export const PROXY_TOKEN_FILE = 'proxy-token';
/** Name of the proxies' token in the store (a suffix is added when a replaced one keeps the name). */
export const PROXY_TOKEN_NAME = 'proxies-budget-leases';

export interface ProxyTokenResult {
  /** The bearer token the control plane puts in the filter config (`budgets.lease.authorization`). */
  readonly token: string;
  readonly tokenId: string;
  /** True when this call issued it (first start, or the previous one was lost, revoked or expired). */
  readonly created: boolean;
  readonly path: string;
}

/**
 * The `proxy` token proxies send with their budget-lease calls (`POST /v1/budget-leases`). One
 * token for the whole fleet: it travels in the ECDS config of the global DLP policy, which is
 * shared by every node of a group, so it cannot be per node. Its role reaches nothing but the
 * routes proxies call, so reading an Envoy's config (admin /config_dump) does not open the API.
 *
 * The store keeps only its hash (like every token); the plaintext lives in
 * `<dataDir>/proxy-token` (0600, directory 0700), which this function reads on every start. The
 * token is kept when it verifies and has the role `proxy`. Otherwise — file missing, token
 * revoked through `DELETE /v1/tokens/{id}`, expired, from an earlier database, or a `viewer` token
 * written by a meshward from before the `proxy` role — a new `proxy` token is issued and the file
 * replaced, so an operator rotates it by revoking it and restarting. Every start then revokes the
 * earlier tokens this bootstrap issued (`createdBy: system:bootstrap`, named `proxies-budget-leases*`)
 * other than the current one: an upgraded fleet's old viewer token stops working, and so does one
 * whose file was lost, even if an earlier start stopped between writing the file and revoking.
 * Tokens an operator created are never revoked here. Call after {@link bootstrapAdminToken} (which
 * only acts on a store without tokens).
 */
export function bootstrapProxyToken(store: Store, dataDir: string, now: Date): ProxyTokenResult {
  const path = join(dataDir, PROXY_TOKEN_FILE);
  let existing: string | undefined;
  try {
    existing = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (existing !== undefined) {
    const check = verifyApiToken(store, existing, now);
    if (check.ok && check.token.role === 'proxy') {
      chmodSync(path, 0o600);
      revokeEarlierProxyTokens(store, check.token.id);
      return { token: existing, tokenId: check.token.id, created: false, path };
    }
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const taken = new Set(allTokens(store).map((t) => t.name));
  let name = PROXY_TOKEN_NAME;
  for (let i = 2; taken.has(name); i++) name = `${PROXY_TOKEN_NAME}-${i}`;
  const issued = issueApiToken(store, { name, role: 'proxy', actor: 'system:bootstrap' });
  writeFileSync(path, `${issued.token}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  // Only once the new token is on disk: a crash before this line leaves the old one working.
  revokeEarlierProxyTokens(store, issued.record.id);
  return { token: issued.token, tokenId: issued.record.id, created: true, path };
}

/** Revokes every unrevoked proxy token the bootstrap issued, except `keep`. */
function revokeEarlierProxyTokens(store: Store, keep: string): void {
  for (const t of allTokens(store)) {
    if (t.id !== keep && t.revokedAt === undefined && t.createdBy === 'system:bootstrap' && t.name.startsWith(PROXY_TOKEN_NAME)) {
      store.tokens.revoke(t.id, 'system:bootstrap');
    }
  }
}

function allTokens(store: Store): ApiToken[] {
  const all: ApiToken[] = [];
  for (let cursor: string | undefined, first = true; first || cursor !== undefined; first = false) {
    const page = store.tokens.list({ limit: 1000, ...(cursor !== undefined ? { cursor } : {}) });
    all.push(...page.items);
    cursor = page.nextCursor;
  }
  return all;
}
