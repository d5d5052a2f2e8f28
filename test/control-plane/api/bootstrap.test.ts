/** bootstrapProxyToken: the proxies' budget-lease `proxy` token, kept across starts, replaced when unusable or a viewer. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { hashSecret, issueApiToken, verifyApiToken } from '../../../control-plane/src/api/api-token.js';
import { createApp } from '../../../control-plane/src/api/app.js';
import { PROXY_TOKEN_FILE, bootstrapAdminToken, bootstrapProxyToken } from '../../../control-plane/src/api/bootstrap.js';
import { migrate } from '../../../control-plane/src/store/migrate.js';
import { MIGRATIONS } from '../../../control-plane/src/store/migrations/index.js';
import { createStore } from '../../../control-plane/src/store/store.js';

const dir = mkdtempSync(join(tmpdir(), 'mw-proxy-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const now = new Date('2026-11-26T08:00:00Z');

describe('bootstrapProxyToken', () => {
  it('issues a proxy token once (0600 file), keeps it across starts, and does not stop the admin bootstrap', () => {
    const dataDir = join(dir, 'a');
    const store = createStore({ path: ':memory:' });
    expect(bootstrapAdminToken(store, dataDir).created).toBe(true);
    const first = bootstrapProxyToken(store, dataDir, now);
    expect(first).toMatchObject({ created: true, path: join(dataDir, PROXY_TOKEN_FILE) });
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    expect(readFileSync(first.path, 'utf8')).toBe(`${first.token}\n`);
    const check = verifyApiToken(store, first.token, now);
    expect(check.ok && check.token.role).toBe('proxy');
    const again = bootstrapProxyToken(store, dataDir, now);
    expect(again).toMatchObject({ created: false, token: first.token, tokenId: first.tokenId });
    store.close();
  });

  it('replaces a revoked token, and revokes an earlier one whose file was lost', () => {
    const dataDir = join(dir, 'b');
    const store = createStore({ path: ':memory:' });
    const first = bootstrapProxyToken(store, dataDir, now);
    store.tokens.revoke(first.tokenId, 'ops');
    const second = bootstrapProxyToken(store, dataDir, now);
    expect(second.created).toBe(true);
    expect(second.token).not.toBe(first.token);
    expect(store.tokens.get(second.tokenId)!.name).toBe('proxies-budget-leases-2');
    unlinkSync(second.path);
    const third = bootstrapProxyToken(store, dataDir, now);
    expect(third.created).toBe(true);
    expect(verifyApiToken(store, second.token, now)).toEqual({ ok: false, reason: 'revoked' });
    expect(verifyApiToken(store, third.token, now).ok).toBe(true);
    store.close();
  });

  it('upgrades a fleet from before the proxy role (version-3 database, viewer token in the file): replaced by a proxy token, the old one revoked', async () => {
    const dataDir = join(dir, 'upgrade');
    const path = join(dataDir, PROXY_TOKEN_FILE);
    // what an earlier meshward left: a version-3 database with its viewer proxy token, and the file
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const v3 = new Database(join(dataDir, 'state.db'));
    migrate(v3, MIGRATIONS.filter((m) => m.version <= 3));
    const row = (id: string, name: string, secret: string, createdBy: string) =>
      v3
        .prepare(`INSERT INTO api_tokens (id, name, role, secret_hash, created_at, created_by) VALUES (?, ?, 'viewer', ?, '2026-01-01T00:00:00.000Z', ?)`)
        .run(id, name, hashSecret(secret), createdBy);
    row('00000000000000b1', 'proxies-budget-leases', 'B'.repeat(43), 'system:bootstrap');
    // an operator's own viewer token (not the bootstrap's) is left alone
    row('00000000000000c1', 'proxies-budget-leases-ops', 'C'.repeat(43), 'bootstrap-admin');
    v3.close();
    const old = { token: `mw_00000000000000b1_${'B'.repeat(43)}`, record: { id: '00000000000000b1' } };
    const ops = { token: `mw_00000000000000c1_${'C'.repeat(43)}` };
    writeFileSync(path, `${old.token}\n`, { mode: 0o600 });

    const store = createStore({ path: join(dataDir, 'state.db') }); // migrates to version 4
    expect(bootstrapAdminToken(store, dataDir).created).toBe(false);
    expect(verifyApiToken(store, old.token, now)).toMatchObject({ ok: true, token: { role: 'viewer' } });

    const r = bootstrapProxyToken(store, dataDir, now);
    expect(r.created).toBe(true);
    expect(r.token).not.toBe(old.token);
    expect(readFileSync(path, 'utf8')).toBe(`${r.token}\n`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(store.tokens.get(r.tokenId)).toMatchObject({ name: 'proxies-budget-leases-2', role: 'proxy', createdBy: 'system:bootstrap' });
    expect(store.tokens.get(old.record.id)!.revokedAt).toBeDefined();
    expect(verifyApiToken(store, old.token, now)).toEqual({ ok: false, reason: 'revoked' });
    expect(verifyApiToken(store, ops.token, now).ok).toBe(true);

    // through the API: the old token is refused outright; the new one leases and reads nothing
    const app = await createApp({ store, dlpConfigSchema: false, now: () => now });
    try {
      const call = (token: string, method: 'GET' | 'POST', url: string) =>
        app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(method === 'POST' ? { payload: { nodeId: 'n1', leases: [{ budget: 'none', key: '*', spent: 0, want: 1 }] } } : {}) });
      expect((await call(old.token, 'POST', '/v1/budget-leases')).statusCode).toBe(401);
      expect((await call(old.token, 'GET', '/v1/workloads')).statusCode).toBe(401);
      expect((await call(r.token, 'POST', '/v1/budget-leases')).statusCode).toBe(200);
      expect((await call(r.token, 'GET', '/v1/workloads')).statusCode).toBe(403);
    } finally {
      await app.close();
    }

    // the next start keeps the upgraded token
    store.close();
    const reopened = createStore({ path: join(dataDir, 'state.db') });
    const again = bootstrapProxyToken(reopened, dataDir, now);
    expect(again).toMatchObject({ created: false, token: r.token, tokenId: r.tokenId });
    reopened.close();
  });

  it('finishes an interrupted replacement: a start that finds the new token in the file revokes the earlier ones', () => {
    const dataDir = join(dir, 'interrupted');
    const store = createStore({ path: ':memory:' });
    const old = issueApiToken(store, { name: 'proxies-budget-leases', role: 'viewer', actor: 'system:bootstrap' });
    // the new token was written, the process stopped before revoking the old one
    const fresh = issueApiToken(store, { name: 'proxies-budget-leases-2', role: 'proxy', actor: 'system:bootstrap' });
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, PROXY_TOKEN_FILE), `${fresh.token}\n`, { mode: 0o644 });
    const r = bootstrapProxyToken(store, dataDir, now);
    expect(r).toMatchObject({ created: false, token: fresh.token });
    expect(statSync(r.path).mode & 0o777).toBe(0o600);
    expect(verifyApiToken(store, old.token, now)).toEqual({ ok: false, reason: 'revoked' });
    expect(verifyApiToken(store, fresh.token, now).ok).toBe(true);
    store.close();
  });
});
