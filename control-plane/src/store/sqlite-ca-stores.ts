import type { CertificatePage, IssuedCertificateRecord, IssuedCertificateStore } from '../ca/issued-certificate-store.js';
import type { JoinTokenRecord, JoinTokenStore } from '../ca/join-token-store.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { SqliteStore } from './sqlite-store.js';

/**
 * SQLite implementations of the CA's record stores (interfaces owned by ca/), in the control
 * plane's database so join tokens and the certificate register survive restarts with everything
 * else. Each call is one statement (atomic on its own) and durable on return (synchronous=FULL).
 */

interface JoinTokenRow {
  token_id: string;
  token_hash: string;
  spiffe_id: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
  description: string | null;
}

function toJoinToken(r: JoinTokenRow): JoinTokenRecord {
  return {
    tokenId: r.token_id,
    tokenHash: r.token_hash,
    spiffeId: r.spiffe_id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    ...(r.revoked_at === null ? {} : { revokedAt: r.revoked_at }),
    ...(r.last_used_at === null ? {} : { lastUsedAt: r.last_used_at }),
    ...(r.description === null ? {} : { description: r.description }),
  };
}

function joinTokenRow(r: JoinTokenRecord): JoinTokenRow {
  return {
    token_id: r.tokenId,
    token_hash: r.tokenHash,
    spiffe_id: r.spiffeId,
    created_at: r.createdAt,
    expires_at: r.expiresAt,
    revoked_at: r.revokedAt ?? null,
    last_used_at: r.lastUsedAt ?? null,
    description: r.description ?? null,
  };
}

export function createSqliteJoinTokenStore(store: SqliteStore): JoinTokenStore {
  const db = () => store.database;
  return {
    async add(record) {
      const r = db()
        .prepare<JoinTokenRow>(
          `INSERT OR IGNORE INTO join_tokens (token_id, token_hash, spiffe_id, created_at, expires_at, revoked_at, last_used_at, description)
           VALUES (@token_id, @token_hash, @spiffe_id, @created_at, @expires_at, @revoked_at, @last_used_at, @description)`,
        )
        .run(joinTokenRow(record));
      if (r.changes === 0) throw new Error(`join token ${record.tokenId} already exists`);
    },
    async getByHash(hash) {
      const row = db().prepare<[string], JoinTokenRow>(`SELECT * FROM join_tokens WHERE token_hash = ?`).get(hash);
      return row === undefined ? undefined : toJoinToken(row);
    },
    async get(id) {
      const row = db().prepare<[string], JoinTokenRow>(`SELECT * FROM join_tokens WHERE token_id = ?`).get(id);
      return row === undefined ? undefined : toJoinToken(row);
    },
    async update(record) {
      const r = db()
        .prepare<JoinTokenRow>(
          `UPDATE join_tokens SET token_hash = @token_hash, spiffe_id = @spiffe_id, created_at = @created_at, expires_at = @expires_at,
             revoked_at = @revoked_at, last_used_at = @last_used_at, description = @description WHERE token_id = @token_id`,
        )
        .run(joinTokenRow(record));
      if (r.changes === 0) throw new Error(`join token ${record.tokenId} does not exist`);
    },
    async list(filter = {}) {
      const rows =
        filter.spiffeId === undefined
          ? db().prepare<[], JoinTokenRow>(`SELECT * FROM join_tokens ORDER BY created_at, token_id`).all()
          : db().prepare<[string], JoinTokenRow>(`SELECT * FROM join_tokens WHERE spiffe_id = ? ORDER BY created_at, token_id`).all(filter.spiffeId);
      return rows.map(toJoinToken);
    },
    async pruneExpired(beforeMs) {
      return db().prepare<[string]>(`DELETE FROM join_tokens WHERE expires_at < ?`).run(new Date(beforeMs).toISOString()).changes;
    },
  };
}

interface CertRow {
  seq: number;
  serial_number: string;
  spiffe_id: string;
  not_before: string;
  not_after: string;
  issued_at: string;
  issuer_key_id: string;
  key_algorithm: string;
  status: IssuedCertificateRecord['status'];
  revoked_at: string | null;
  revocation_reason: string | null;
}

function toCert(r: CertRow): IssuedCertificateRecord {
  return {
    serialNumber: r.serial_number,
    spiffeId: r.spiffe_id,
    notBefore: r.not_before,
    notAfter: r.not_after,
    issuedAt: r.issued_at,
    issuerKeyId: r.issuer_key_id,
    keyAlgorithm: r.key_algorithm,
    status: r.status,
    ...(r.revoked_at === null ? {} : { revokedAt: r.revoked_at }),
    ...(r.revocation_reason === null ? {} : { revocationReason: r.revocation_reason }),
  };
}

function certRow(r: IssuedCertificateRecord): Omit<CertRow, 'seq'> {
  return {
    serial_number: r.serialNumber,
    spiffe_id: r.spiffeId,
    not_before: r.notBefore,
    not_after: r.notAfter,
    issued_at: r.issuedAt,
    issuer_key_id: r.issuerKeyId,
    key_algorithm: r.keyAlgorithm,
    status: r.status,
    revoked_at: r.revokedAt ?? null,
    revocation_reason: r.revocationReason ?? null,
  };
}

export function createSqliteIssuedCertificateStore(store: SqliteStore): IssuedCertificateStore {
  const db = () => store.database;
  return {
    async add(record) {
      const r = db()
        .prepare<Omit<CertRow, 'seq'>>(
          `INSERT OR IGNORE INTO issued_certificates (serial_number, spiffe_id, not_before, not_after, issued_at, issuer_key_id, key_algorithm, status, revoked_at, revocation_reason)
           VALUES (@serial_number, @spiffe_id, @not_before, @not_after, @issued_at, @issuer_key_id, @key_algorithm, @status, @revoked_at, @revocation_reason)`,
        )
        .run(certRow(record));
      if (r.changes === 0) throw new Error(`certificate ${record.serialNumber} is already recorded`);
    },
    async get(serial) {
      const row = db().prepare<[string], CertRow>(`SELECT * FROM issued_certificates WHERE serial_number = ?`).get(serial);
      return row === undefined ? undefined : toCert(row);
    },
    async update(record) {
      const r = db()
        .prepare<Omit<CertRow, 'seq'>>(
          `UPDATE issued_certificates SET spiffe_id = @spiffe_id, not_before = @not_before, not_after = @not_after, issued_at = @issued_at,
             issuer_key_id = @issuer_key_id, key_algorithm = @key_algorithm, status = @status, revoked_at = @revoked_at,
             revocation_reason = @revocation_reason WHERE serial_number = @serial_number`,
        )
        .run(certRow(record));
      if (r.changes === 0) throw new Error(`certificate ${record.serialNumber} is not recorded`);
    },
    async list(query = {}): Promise<CertificatePage> {
      const limit = Math.min(Math.max(1, query.limit ?? 100), 1000);
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (query.cursor !== undefined) {
        const { s } = decodeCursor(query.cursor, (v): v is { s: number } => typeof v['s'] === 'number');
        where.push('seq > ?');
        params.push(s);
      }
      if (query.spiffeId !== undefined) {
        where.push('spiffe_id = ?');
        params.push(query.spiffeId);
      }
      if (query.status !== undefined) {
        where.push('status = ?');
        params.push(query.status);
      }
      if (query.issuerKeyId !== undefined) {
        where.push('issuer_key_id = ?');
        params.push(query.issuerKeyId);
      }
      const rows = db()
        .prepare<(string | number)[], CertRow>(
          `SELECT * FROM issued_certificates ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`,
        )
        .all(...params, limit + 1);
      const items = rows.slice(0, limit);
      return rows.length > limit ? { items: items.map(toCert), nextCursor: encodeCursor({ s: items[items.length - 1]!.seq }) } : { items: items.map(toCert) };
    },
    async listRevoked(issuerKeyId, notAfterAfterMs) {
      return db()
        .prepare<[string, string], CertRow>(
          `SELECT * FROM issued_certificates WHERE issuer_key_id = ? AND status = 'revoked' AND not_after > ? ORDER BY seq`,
        )
        .all(issuerKeyId, new Date(notAfterAfterMs).toISOString())
        .map(toCert);
    },
    async pruneExpired(beforeMs) {
      return db().prepare<[string]>(`DELETE FROM issued_certificates WHERE not_after < ?`).run(new Date(beforeMs).toISOString()).changes;
    },
  };
}
