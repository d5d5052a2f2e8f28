/**
 * Migration 0004 rebuilds api_tokens so `role` may be 'proxy'. A database created at version 3
 * (with tokens of every state) must come out with the same tokens, the same table shape and
 * constraints (only the CHECK wider), and accept proxy tokens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashSecret, issueApiToken, verifyApiToken } from '../../../../control-plane/src/api/api-token.js';
import { migrate } from '../../../../control-plane/src/store/migrate.js';
import { MIGRATIONS } from '../../../../control-plane/src/store/migrations/index.js';
import { createStore } from '../../../../control-plane/src/store/store.js';

const now = new Date('2026-11-26T10:00:00Z');
const secret = (c: string) => c.repeat(43);

/** Tokens as the version-3 code wrote them. */
const v3Rows = [
  { id: '00000000000000a1', name: 'bootstrap-admin', role: 'admin', secret_hash: hashSecret(secret('A')), created_at: '2026-01-01T00:00:00.000Z', created_by: 'system:bootstrap', expires_at: null, revoked_at: null },
  { id: '00000000000000b2', name: 'proxies-budget-leases', role: 'viewer', secret_hash: hashSecret(secret('B')), created_at: '2026-01-02T00:00:00.000Z', created_by: 'system:bootstrap', expires_at: null, revoked_at: null },
  { id: '00000000000000c3', name: 'ci', role: 'viewer', secret_hash: hashSecret(secret('C')), created_at: '2026-01-03T00:00:00.000Z', created_by: 'bootstrap-admin', expires_at: null, revoked_at: '2026-02-01T00:00:00.000Z' },
  { id: '00000000000000d4', name: 'temp', role: 'admin', secret_hash: hashSecret(secret('D')), created_at: '2026-01-04T00:00:00.000Z', created_by: 'bootstrap-admin', expires_at: '2026-03-01T00:00:00.000Z', revoked_at: null },
] as const;

type Shape = { columns: unknown[]; indexes: unknown[]; strict: unknown };
function shapeOf(db: Database.Database): Shape {
  const indexes = (db.pragma('index_list(api_tokens)') as { name: string; unique: number; origin: string; partial: number }[])
    .map((i) => ({ ...i, columns: (db.pragma(`index_info(${i.name})`) as { name: string }[]).map((c) => c.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const strict = (db.pragma('table_list(api_tokens)') as { strict: number }[])[0]?.strict;
  return { columns: db.pragma('table_xinfo(api_tokens)') as unknown[], indexes, strict };
}

describe('migration 0004 (api_tokens.role may be proxy)', () => {
  let dir: string;
  let path: string;
  let v3Shape: Shape;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'meshward-m0004-'));
    path = join(dir, 'state.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    expect(migrate(db, MIGRATIONS.filter((m) => m.version <= 3))).toBe(3);
    const insert = db.prepare(
      `INSERT INTO api_tokens (id, name, role, secret_hash, created_at, created_by, expires_at, revoked_at)
       VALUES (@id, @name, @role, @secret_hash, @created_at, @created_by, @expires_at, @revoked_at)`,
    );
    for (const r of v3Rows) insert.run(r);
    // version 3 refuses the new role: the point of the migration
    expect(() => insert.run({ ...v3Rows[0], id: '00000000000000e5', name: 'p', role: 'proxy' })).toThrow(/CHECK constraint failed/);
    v3Shape = shapeOf(db);
    db.close();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is appended as version 4 after the shipped migrations', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual([1, 2, 3, 4]);
  });

  it('keeps every token (ids, hashes, names, creators, revoked and expired state) through the store', () => {
    const store = createStore({ path, now: () => now });
    try {
      const tokens = store.tokens.list({ limit: 100 }).items;
      expect(tokens.map((t) => [t.id, t.name, t.role, t.secretHash, t.createdAt, t.createdBy, t.expiresAt ?? null, t.revokedAt ?? null])).toEqual(
        v3Rows.map((r) => [r.id, r.name, r.role, r.secret_hash, r.created_at, r.created_by, r.expires_at, r.revoked_at]),
      );
      // the tokens still authenticate exactly as before
      expect(verifyApiToken(store, `mw_${v3Rows[0].id}_${secret('A')}`, now)).toMatchObject({ ok: true, token: { role: 'admin' } });
      expect(verifyApiToken(store, `mw_${v3Rows[1].id}_${secret('B')}`, now)).toMatchObject({ ok: true, token: { role: 'viewer' } });
      expect(verifyApiToken(store, `mw_${v3Rows[2].id}_${secret('C')}`, now)).toEqual({ ok: false, reason: 'revoked' });
      expect(verifyApiToken(store, `mw_${v3Rows[3].id}_${secret('D')}`, now)).toEqual({ ok: false, reason: 'expired' });
      expect(verifyApiToken(store, `mw_${v3Rows[0].id}_${secret('B')}`, now)).toEqual({ ok: false, reason: 'unknown' });
    } finally {
      store.close();
    }
  });

  it('accepts proxy tokens afterwards, durably, and still refuses unknown roles and reused names', () => {
    const store = createStore({ path, now: () => now });
    const issued = issueApiToken(store, { name: 'istio-proxies', role: 'proxy', actor: 'bootstrap-admin' });
    expect(() => issueApiToken(store, { name: 'ci', role: 'proxy', actor: 'x' })).toThrow(/already exists/);
    store.close();
    const reopened = createStore({ path, now: () => now });
    try {
      expect(verifyApiToken(reopened, issued.token, now)).toMatchObject({ ok: true, token: { name: 'istio-proxies', role: 'proxy' } });
      expect(reopened.tokens.count()).toBe(v3Rows.length + 1);
    } finally {
      reopened.close();
    }
    const db = new Database(path);
    try {
      const insert = db.prepare(
        `INSERT INTO api_tokens (id, name, role, secret_hash, created_at, created_by) VALUES (?, ?, ?, 'h', 't', 'x')`,
      );
      expect(() => insert.run('00000000000000f6', 'root-ish', 'root')).toThrow(/CHECK constraint failed/);
      expect(() => insert.run('00000000000000f7', 'ci', 'proxy')).toThrow(/UNIQUE constraint failed: api_tokens.name/);
      expect(() => insert.run(v3Rows[0].id, 'fresh', 'proxy')).toThrow(/UNIQUE constraint failed: api_tokens.id/);
      expect(() => db.prepare(`INSERT INTO api_tokens (id, name, role, secret_hash, created_at, created_by) VALUES ('x', 'y', 'proxy', x'00', 't', 'x')`).run()).toThrow(
        /cannot store BLOB value in TEXT column/,
      );
    } finally {
      db.close();
    }
  });

  it('leaves the table shaped as before: same columns, types, NOT NULLs, keys, unique index, STRICT; nothing left behind', () => {
    createStore({ path, now: () => now }).close();
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(4);
      expect(shapeOf(db)).toEqual(v3Shape);
      expect(v3Shape.strict).toBe(1);
      expect((v3Shape.indexes as { columns: string[]; unique: number }[]).map((i) => [i.columns, i.unique])).toEqual([
        [['id'], 1],
        [['name'], 1],
      ]);
      const sql = (db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'api_tokens'`).get() as { sql: string }).sql;
      expect(sql).toMatch(/CHECK \(role IN \('admin', 'viewer', 'proxy'\)\)/);
      expect(db.prepare(`SELECT name FROM sqlite_master WHERE name LIKE '%api_tokens_v4%'`).all()).toEqual([]);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('foreign_key_check')).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('runs on a fresh database too (all four steps)', () => {
    const store = createStore({ path: join(dir, 'fresh.db'), now: () => now });
    try {
      expect(issueApiToken(store, { name: 'p', role: 'proxy', actor: 't' }).record.role).toBe('proxy');
    } finally {
      store.close();
    }
  });
});
