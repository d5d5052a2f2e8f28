/** bootstrapProxyToken: the proxies' budget-lease viewer token, kept across starts, replaced when unusable. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyApiToken } from '../../../control-plane/src/api/api-token.js';
import { PROXY_TOKEN_FILE, bootstrapAdminToken, bootstrapProxyToken } from '../../../control-plane/src/api/bootstrap.js';
import { createStore } from '../../../control-plane/src/store/store.js';

const dir = mkdtempSync(join(tmpdir(), 'mw-proxy-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const now = new Date('2026-11-26T08:00:00Z');

describe('bootstrapProxyToken', () => {
  it('issues a viewer token once (0600 file), keeps it across starts, and does not stop the admin bootstrap', () => {
    const dataDir = join(dir, 'a');
    const store = createStore({ path: ':memory:' });
    expect(bootstrapAdminToken(store, dataDir).created).toBe(true);
    const first = bootstrapProxyToken(store, dataDir, now);
    expect(first).toMatchObject({ created: true, path: join(dataDir, PROXY_TOKEN_FILE) });
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    expect(readFileSync(first.path, 'utf8')).toBe(`${first.token}\n`);
    const check = verifyApiToken(store, first.token, now);
    expect(check.ok && check.token.role).toBe('viewer');
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
});
