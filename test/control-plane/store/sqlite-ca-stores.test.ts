import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryIssuedCertificateStore, type IssuedCertificateRecord, type IssuedCertificateStore } from '../../../control-plane/src/ca/issued-certificate-store.js';
import { createMemoryJoinTokenStore, type JoinTokenRecord, type JoinTokenStore } from '../../../control-plane/src/ca/join-token-store.js';
import { createSqliteIssuedCertificateStore, createSqliteJoinTokenStore } from '../../../control-plane/src/store/sqlite-ca-stores.js';
import { createSqliteStore, type SqliteStore } from '../../../control-plane/src/store/sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'meshward-ca-stores-'));
const opened: SqliteStore[] = [];
afterAll(() => {
  for (const s of opened) s.close();
  rmSync(dir, { recursive: true, force: true });
});
let n = 0;
const sqlite = () => {
  const s = createSqliteStore({ path: join(dir, `db-${n++}.db`) });
  opened.push(s);
  return s;
};

const token = (id: string, spiffeId: string, expiresAt = '2030-01-01T00:00:00.000Z'): JoinTokenRecord => ({
  tokenId: id,
  tokenHash: `${id}`.padEnd(64, '0'),
  spiffeId,
  createdAt: `2026-01-01T00:00:0${id.length % 10}.000Z`,
  expiresAt,
});

const cert = (serial: string, spiffeId: string, extra: Partial<IssuedCertificateRecord> = {}): IssuedCertificateRecord => ({
  serialNumber: serial,
  spiffeId,
  notBefore: '2026-01-01T00:00:00.000Z',
  notAfter: '2026-01-02T00:00:00.000Z',
  issuedAt: '2026-01-01T00:00:00.000Z',
  issuerKeyId: 'ca1',
  keyAlgorithm: 'ECDSA_P256',
  status: 'active',
  ...extra,
});

// The same contract for the CA's in-memory reference implementation and ours.
describe.each([
  ['memory', () => ({ tokens: createMemoryJoinTokenStore(), certs: createMemoryIssuedCertificateStore() })],
  ['sqlite', () => { const s = sqlite(); return { tokens: createSqliteJoinTokenStore(s), certs: createSqliteIssuedCertificateStore(s) }; }],
] as [string, () => { tokens: JoinTokenStore; certs: IssuedCertificateStore }][])('%s CA record stores', (_name, make) => {
  it('join tokens: add, find by hash and id, update, list by identity, prune', async () => {
    const { tokens } = make();
    await tokens.add(token('aaaa', 'spiffe://td/ns/a/sa/x'));
    await tokens.add(token('bbbbb', 'spiffe://td/ns/a/sa/y', '2020-01-01T00:00:00.000Z'));
    await expect(tokens.add(token('aaaa', 'spiffe://td/ns/a/sa/x'))).rejects.toThrow(/exists/);
    expect(await tokens.getByHash('aaaa'.padEnd(64, '0'))).toMatchObject({ tokenId: 'aaaa' });
    expect(await tokens.get('nope')).toBeUndefined();
    await tokens.update({ ...token('aaaa', 'spiffe://td/ns/a/sa/x'), revokedAt: '2026-02-01T00:00:00.000Z', description: 'host-1' });
    expect(await tokens.get('aaaa')).toMatchObject({ revokedAt: '2026-02-01T00:00:00.000Z', description: 'host-1' });
    await expect(tokens.update(token('zz', 'x'))).rejects.toThrow(/does not exist/);
    expect((await tokens.list({ spiffeId: 'spiffe://td/ns/a/sa/y' })).map((t) => t.tokenId)).toEqual(['bbbbb']);
    expect(await tokens.list()).toHaveLength(2);
    expect(await tokens.pruneExpired(Date.parse('2025-01-01T00:00:00Z'))).toBe(1);
    expect(await tokens.list()).toHaveLength(1);
  });

  it('certificates: add, update, list in issuance order with filters and cursors, revoked per issuer, prune', async () => {
    const { certs } = make();
    for (let i = 0; i < 5; i++) await certs.add(cert(`0${i}`, `spiffe://td/ns/a/sa/${i % 2}`));
    await expect(certs.add(cert('00', 'x'))).rejects.toThrow(/already/);
    await certs.update({ ...cert('01', 'spiffe://td/ns/a/sa/1'), status: 'revoked', revokedAt: '2026-01-01T01:00:00.000Z', revocationReason: 'keyCompromise', notAfter: '2027-01-01T00:00:00.000Z' });
    await expect(certs.update(cert('99', 'x'))).rejects.toThrow(/not recorded/);
    const p1 = await certs.list({ limit: 2 });
    expect(p1.items.map((c) => c.serialNumber)).toEqual(['00', '01']);
    const p2 = await certs.list({ limit: 2, cursor: p1.nextCursor! });
    expect(p2.items.map((c) => c.serialNumber)).toEqual(['02', '03']);
    const p3 = await certs.list({ limit: 2, cursor: p2.nextCursor! });
    expect(p3.items.map((c) => c.serialNumber)).toEqual(['04']);
    expect(p3.nextCursor).toBeUndefined();
    expect((await certs.list({ spiffeId: 'spiffe://td/ns/a/sa/1' })).items.map((c) => c.serialNumber)).toEqual(['01', '03']);
    expect((await certs.list({ status: 'revoked' })).items.map((c) => c.serialNumber)).toEqual(['01']);
    expect((await certs.listRevoked('ca1', Date.parse('2026-06-01T00:00:00Z'))).map((c) => c.serialNumber)).toEqual(['01']);
    expect(await certs.listRevoked('other', 0)).toEqual([]);
    expect(await certs.get('01')).toMatchObject({ revocationReason: 'keyCompromise' });
    expect(await certs.pruneExpired(Date.parse('2026-06-01T00:00:00Z'))).toBe(4);
    expect((await certs.list()).items.map((c) => c.serialNumber)).toEqual(['01']);
  });
});

describe('sqlite CA record stores across a reopen', () => {
  it('keep join tokens and certificates', async () => {
    const path = join(dir, 'reopen.db');
    const a = createSqliteStore({ path });
    await createSqliteJoinTokenStore(a).add(token('cccc', 'spiffe://td/ns/a/sa/x'));
    await createSqliteIssuedCertificateStore(a).add(cert('0a', 'spiffe://td/ns/a/sa/x'));
    a.close();
    const b = createSqliteStore({ path });
    opened.push(b);
    expect(await createSqliteJoinTokenStore(b).get('cccc')).toMatchObject({ spiffeId: 'spiffe://td/ns/a/sa/x' });
    expect((await createSqliteIssuedCertificateStore(b).list()).items).toHaveLength(1);
  });
});
