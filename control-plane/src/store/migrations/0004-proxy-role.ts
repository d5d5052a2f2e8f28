/**
 * API tokens may have the role `proxy` (what proxies use for `POST /v1/budget-leases`, and
 * nothing else). SQLite cannot change a CHECK constraint in place, so the table is rebuilt: a new
 * table with the wider CHECK and otherwise the same columns, types, constraints and STRICT mode,
 * every row copied as is, the old table dropped and the new one renamed (which also renames its
 * UNIQUE index). The migration runner wraps this in one transaction with the `user_version` bump,
 * so a crash leaves version 3 intact. No table, trigger or view refers to api_tokens, so the drop
 * and rename touch nothing else.
 */
export const version = 4;
export const sql = `
CREATE TABLE api_tokens_v4 (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  role        TEXT NOT NULL CHECK (role IN ('admin', 'viewer', 'proxy')),
  secret_hash TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  created_by  TEXT NOT NULL,
  expires_at  TEXT,
  revoked_at  TEXT
) STRICT;
INSERT INTO api_tokens_v4 (id, name, role, secret_hash, created_at, created_by, expires_at, revoked_at)
  SELECT id, name, role, secret_hash, created_at, created_by, expires_at, revoked_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_v4 RENAME TO api_tokens;
`;
