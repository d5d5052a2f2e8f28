/**
 * The closed loop's own tables (alerts/, rollouts/, reports/): alert rules, fired and resolved
 * alerts, rollout guards, and per-minute call rollups for audit reports. Additive; nothing here
 * touches the tables of earlier migrations.
 */
export const version = 3;
export const sql = `
CREATE TABLE alert_rules (
  name        TEXT PRIMARY KEY,
  spec        TEXT NOT NULL,
  version     INTEGER NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  updated_by  TEXT NOT NULL
) STRICT;

CREATE TABLE alerts (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  rule        TEXT NOT NULL,
  severity    TEXT NOT NULL,
  dimension   TEXT NOT NULL,
  series_key  TEXT NOT NULL,
  signal      TEXT NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
  fired_at    TEXT NOT NULL,
  resolved_at TEXT,
  value       REAL,
  score       REAL,
  threshold   REAL,
  summary     TEXT NOT NULL,
  labels      TEXT NOT NULL
) STRICT;
CREATE INDEX alerts_fired_at ON alerts (fired_at);
CREATE INDEX alerts_open ON alerts (state, rule, dimension, series_key);

CREATE TABLE rollout_guards (
  rollout          TEXT PRIMARY KEY,
  spec             TEXT NOT NULL,
  paused           INTEGER NOT NULL DEFAULT 0,
  step_applied_at  TEXT,
  updated_at       TEXT NOT NULL,
  updated_by       TEXT NOT NULL
) STRICT;

CREATE TABLE call_rollups (
  minute          INTEGER NOT NULL,
  identity        TEXT NOT NULL,
  model           TEXT NOT NULL,
  version         TEXT NOT NULL,
  requests        INTEGER NOT NULL,
  denied_rbac     INTEGER NOT NULL,
  denied_mtls     INTEGER NOT NULL,
  rate_limited    INTEGER NOT NULL,
  errors          INTEGER NOT NULL,
  dlp_alerted     INTEGER NOT NULL,
  dlp_redacted    INTEGER NOT NULL,
  dlp_blocked     INTEGER NOT NULL,
  findings        TEXT NOT NULL,
  request_bytes   INTEGER NOT NULL,
  response_bytes  INTEGER NOT NULL,
  tokens_input    INTEGER NOT NULL,
  tokens_output   INTEGER NOT NULL,
  PRIMARY KEY (minute, identity, model, version)
) STRICT;
`;
