/**
 * The CA's join tokens (hash only) and the register of issued workload certificates, kept in the
 * control plane's database (see sqlite-ca-stores.ts).
 */
export const version = 2;
export const sql = `
CREATE TABLE join_tokens (
  token_id     TEXT PRIMARY KEY,
  token_hash   TEXT NOT NULL UNIQUE,
  spiffe_id    TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  expires_at   TEXT NOT NULL,
  revoked_at   TEXT,
  last_used_at TEXT,
  description  TEXT
) STRICT;
CREATE INDEX join_tokens_spiffe_id ON join_tokens (spiffe_id, created_at);

CREATE TABLE issued_certificates (
  seq               INTEGER PRIMARY KEY AUTOINCREMENT,
  serial_number     TEXT NOT NULL UNIQUE,
  spiffe_id         TEXT NOT NULL,
  not_before        TEXT NOT NULL,
  not_after         TEXT NOT NULL,
  issued_at         TEXT NOT NULL,
  issuer_key_id     TEXT NOT NULL,
  key_algorithm     TEXT NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('active', 'superseded', 'revoked')),
  revoked_at        TEXT,
  revocation_reason TEXT
) STRICT;
CREATE INDEX issued_certificates_spiffe_id ON issued_certificates (spiffe_id, seq);
CREATE INDEX issued_certificates_revoked ON issued_certificates (issuer_key_id, status, not_after);
`;
