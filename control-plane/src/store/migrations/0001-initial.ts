/**
 * Initial schema: declarative resources, the config revision, the audit trail, API tokens.
 * Migrations are append-only: never edit a shipped one, add the next number instead.
 */
export const version = 1;
export const sql = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
INSERT INTO meta (key, value) VALUES ('revision', '0');

CREATE TABLE resources (
  kind             TEXT    NOT NULL,
  name             TEXT    NOT NULL,
  spec             TEXT    NOT NULL,
  resource_version INTEGER NOT NULL,
  generation       INTEGER NOT NULL,
  created_at       TEXT    NOT NULL,
  updated_at       TEXT    NOT NULL,
  created_by       TEXT    NOT NULL,
  updated_by       TEXT    NOT NULL,
  PRIMARY KEY (kind, name)
) STRICT;

CREATE TABLE audit (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  at           TEXT    NOT NULL,
  actor        TEXT    NOT NULL,
  action       TEXT    NOT NULL,
  kind         TEXT    NOT NULL,
  name         TEXT    NOT NULL,
  revision     INTEGER,
  from_version INTEGER,
  to_version   INTEGER,
  before       TEXT,
  after        TEXT,
  reason       TEXT
) STRICT;
CREATE INDEX audit_at ON audit (at, id);
CREATE INDEX audit_actor ON audit (actor, id);
CREATE INDEX audit_kind_name ON audit (kind, name, id);

CREATE TABLE api_tokens (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  role        TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
  secret_hash TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  created_by  TEXT NOT NULL,
  expires_at  TEXT,
  revoked_at  TEXT
) STRICT;
`;
