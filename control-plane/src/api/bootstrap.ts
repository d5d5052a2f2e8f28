import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/store.js';
import { issueApiToken } from './api-token.js';

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
