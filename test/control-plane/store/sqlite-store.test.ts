import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../../control-plane/src/store/migrate.js';
import { MIGRATIONS } from '../../../control-plane/src/store/migrations/index.js';
import { StoreError } from '../../../control-plane/src/store/store-error.js';
import { createStore, type ChangeEvent, type Store } from '../../../control-plane/src/store/store.js';

const model = (name: string, weight = 100) => ({ name, versions: [{ name: 'v1', weight, endpoints: [{ address: '10.0.0.1', port: 80 }] }] });

describe('sqlite store', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'meshward-store-'));
    store = createStore({ path: join(dir, 'state.db') });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a missing data directory (0700) and the database file (0600)', async () => {
    const { statSync } = await import('node:fs');
    const path = join(dir, 'nested', 'deeper', 'state.db');
    const s = createStore({ path });
    s.close();
    expect(statSync(join(dir, 'nested', 'deeper')).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('starts empty at revision 0 with WAL and synchronous=FULL', () => {
    expect(store.revision).toBe(0);
    expect(store.snapshot().resources.models).toEqual([]);
    const db = new Database(join(dir, 'state.db'), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)!.version);
    db.close();
  });

  it('creates, updates and deletes with one revision per commit and versions = revision', () => {
    const c = store.commit([{ op: 'create', kind: 'models', name: 'a', spec: model('a') }], { actor: 'alice' });
    expect(c).toMatchObject({ revision: 1, changed: true });
    const a = store.get('models', 'a')!;
    expect(a).toMatchObject({ resourceVersion: 1, generation: 1, createdBy: 'alice', updatedBy: 'alice' });
    const u = store.commit([{ op: 'update', kind: 'models', name: 'a', spec: model('a', 100), ifMatch: 1 }], { actor: 'bob' });
    // identical spec: a no-op, no new revision
    expect(u).toMatchObject({ revision: 1, changed: false });
    const spec2 = { ...model('a'), timeoutMs: 5 };
    const u2 = store.commit([{ op: 'update', kind: 'models', name: 'a', spec: spec2, ifMatch: 1 }], { actor: 'bob' });
    expect(u2.revision).toBe(2);
    expect(store.get('models', 'a')).toMatchObject({ resourceVersion: 2, generation: 2, createdBy: 'alice', updatedBy: 'bob', spec: spec2 });
    const d = store.commit([{ op: 'delete', kind: 'models', name: 'a' }], { actor: 'carol' });
    expect(d.revision).toBe(3);
    expect(store.get('models', 'a')).toBeUndefined();
  });

  it('treats key order as irrelevant when detecting no-op updates', () => {
    store.commit([{ op: 'create', kind: 'models', name: 'a', spec: { x: 1, y: { b: 2, a: 1 } } }], { actor: 't' });
    const r = store.commit([{ op: 'update', kind: 'models', name: 'a', spec: { y: { a: 1, b: 2 }, x: 1 } }], { actor: 't' });
    expect(r.changed).toBe(false);
    expect(store.revision).toBe(1);
  });

  it('refuses duplicates, missing resources and stale versions with typed errors and writes nothing', () => {
    store.commit([{ op: 'create', kind: 'models', name: 'a', spec: model('a') }], { actor: 't' });
    const expectCode = (fn: () => unknown, code: string) => {
      try {
        fn();
        expect.unreachable();
      } catch (err) {
        expect(StoreError.is(err)).toBe(true);
        expect((err as StoreError).code).toBe(code);
      }
    };
    expectCode(() => store.commit([{ op: 'create', kind: 'models', name: 'a', spec: {} }], { actor: 't' }), 'ALREADY_EXISTS');
    expectCode(() => store.commit([{ op: 'update', kind: 'models', name: 'zz', spec: {} }], { actor: 't' }), 'NOT_FOUND');
    expectCode(() => store.commit([{ op: 'delete', kind: 'models', name: 'zz' }], { actor: 't' }), 'NOT_FOUND');
    expectCode(() => store.commit([{ op: 'update', kind: 'models', name: 'a', spec: { v: 2 }, ifMatch: 7 }], { actor: 't' }), 'VERSION_MISMATCH');
    // a batch whose second change fails leaves the first unapplied
    expectCode(
      () =>
        store.commit(
          [
            { op: 'create', kind: 'models', name: 'b', spec: model('b') },
            { op: 'create', kind: 'models', name: 'a', spec: {} },
          ],
          { actor: 't' },
        ),
      'ALREADY_EXISTS',
    );
    expect(store.get('models', 'b')).toBeUndefined();
    expect(store.revision).toBe(1);
    expect(store.audit.query({ kind: 'models' }).items).toHaveLength(1);
  });

  it('runs the validator on the candidate and commits nothing when it throws', () => {
    const seen: number[] = [];
    const validate = (candidate: { revision: number; resources: { models: readonly unknown[] } }) => {
      seen.push(candidate.revision);
      if (candidate.resources.models.length > 1) throw new StoreError('INVALID', 'only one model allowed');
    };
    let seenCandidate: unknown;
    store.commit([{ op: 'create', kind: 'models', name: 'a', spec: model('a') }], {
      actor: 't',
      validate: (c) => {
        seenCandidate = c;
        validate(c);
      },
    });
    expect(store.snapshot()).toBe(seenCandidate); // the committed candidate becomes the current snapshot
    expect(() => store.commit([{ op: 'create', kind: 'models', name: 'b', spec: model('b') }], { actor: 't', validate })).toThrow(/only one/);
    expect(seen).toEqual([1, 2]);
    expect(store.revision).toBe(1);
    expect(store.snapshot().resources.models.map((r) => r.name)).toEqual(['a']);
  });

  it('emits one change event per commit after it is durable, with the new snapshot', () => {
    const events: ChangeEvent[] = [];
    const off = store.onChange((e) => {
      // durable: a second connection sees it already
      const db = new Database(join(dir, 'state.db'), { readonly: true });
      const row = db.prepare(`SELECT value FROM meta WHERE key = 'revision'`).get() as { value: string };
      db.close();
      expect(Number(row.value)).toBe(e.revision);
      events.push(e);
    });
    store.commit(
      [
        { op: 'create', kind: 'models', name: 'a', spec: model('a') },
        { op: 'create', kind: 'models', name: 'b', spec: model('b') },
      ],
      { actor: 't' },
    );
    store.commit([{ op: 'update', kind: 'models', name: 'a', spec: model('a') }], { actor: 't' }); // no-op: no event
    store.commit([{ op: 'delete', kind: 'models', name: 'b', ifMatch: 1 }], { actor: 'u' });
    off();
    store.commit([{ op: 'delete', kind: 'models', name: 'a' }], { actor: 'u' });
    expect(events.map((e) => e.revision)).toEqual([1, 2]);
    expect(events[0]!.changes).toEqual([
      { op: 'create', kind: 'models', name: 'a', fromVersion: undefined, toVersion: 1 },
      { op: 'create', kind: 'models', name: 'b', fromVersion: undefined, toVersion: 1 },
    ]);
    expect(events[1]!.changes).toEqual([{ op: 'delete', kind: 'models', name: 'b', fromVersion: 1, toVersion: undefined }]);
    expect(events[1]!.snapshot.resources.models.map((r) => r.name)).toEqual(['a']);
    expect(events[1]!.actor).toBe('u');
  });

  it('a throwing listener does not undo the commit and is reported', () => {
    const errors: unknown[] = [];
    store.close();
    store = createStore({ path: join(dir, 'state.db'), onListenerError: (e) => errors.push(e) });
    store.onChange(() => {
      throw new Error('boom');
    });
    const r = store.commit([{ op: 'create', kind: 'models', name: 'a', spec: model('a') }], { actor: 't' });
    expect(r.revision).toBe(1);
    expect(errors).toHaveLength(1);
    expect(store.get('models', 'a')).toBeDefined();
  });

  it('returns frozen resources and snapshots', () => {
    store.commit([{ op: 'create', kind: 'models', name: 'a', spec: model('a') }], { actor: 't' });
    const r = store.get('models', 'a')!;
    expect(Object.isFrozen(r)).toBe(true);
    expect(Object.isFrozen(r.spec)).toBe(true);
    expect(() => {
      (r.spec as { name: string }).name = 'x';
    }).toThrow();
    const snap = store.snapshot();
    expect(store.snapshot()).toBe(snap); // shared until the next commit
  });

  it('paginates lists by name with opaque cursors and rejects foreign cursors', () => {
    const names = Array.from({ length: 7 }, (_, i) => `m${i}`);
    store.commit(names.map((n) => ({ op: 'create' as const, kind: 'models' as const, name: n, spec: model(n) })), { actor: 't' });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = store.list('models', { limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((r) => r.name));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined);
    expect(seen).toEqual(names);
    expect(pages).toBe(3);
    expect(() => store.list('models', { cursor: 'garbage!' })).toThrow(StoreError);
    expect(() => store.list('models', { limit: 0 })).toThrow(/limit/);
  });

  it('records an audit entry per change in the same transaction, queryable by time, actor and resource', () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    store.close();
    store = createStore({ path: join(dir, 'state.db'), now: () => new Date(t) });
    store.commit([{ op: 'create', kind: 'models', name: 'a', spec: model('a') }], { actor: 'alice', reason: 'ticket-1' });
    t += 60_000;
    store.commit([{ op: 'update', kind: 'models', name: 'a', spec: model('a', 100) && { ...model('a'), timeoutMs: 1 } }], { actor: 'bob' });
    t += 60_000;
    store.commit([{ op: 'create', kind: 'rate-limits', name: 'r', spec: { name: 'r' } }], { actor: 'alice' });
    const all = store.audit.query({ order: 'asc' }).items;
    expect(all.map((e) => [e.action, e.kind, e.name, e.actor, e.revision, e.fromVersion, e.toVersion])).toEqual([
      ['create', 'models', 'a', 'alice', 1, undefined, 1],
      ['update', 'models', 'a', 'bob', 2, 1, 2],
      ['create', 'rate-limits', 'r', 'alice', 3, undefined, 3],
    ]);
    expect(all[0]!.reason).toBe('ticket-1');
    expect(all[1]!.before).toEqual(model('a'));
    expect(all[1]!.after).toEqual({ ...model('a'), timeoutMs: 1 });
    expect(store.audit.query({ actor: 'alice' }).items.map((e) => e.revision)).toEqual([3, 1]); // newest first by default
    expect(store.audit.query({ kind: 'models', name: 'a' }).items).toHaveLength(2);
    expect(store.audit.query({ since: '2026-01-01T00:01:00Z' }).items).toHaveLength(2);
    expect(store.audit.query({ until: '2026-01-01T00:01:00Z' }).items).toHaveLength(1);
    expect(store.audit.query({ since: '2026-01-01T00:00:30+00:00', until: '2026-01-01T00:01:30Z' }).items.map((e) => e.actor)).toEqual(['bob']);
    const p1 = store.audit.query({ limit: 2 });
    expect(p1.items).toHaveLength(2);
    const p2 = store.audit.query({ limit: 2, cursor: p1.nextCursor! });
    expect(p2.items.map((e) => e.revision)).toEqual([1]);
    expect(p2.nextCursor).toBeUndefined();
    // a desc cursor is not accepted for an asc query
    expect(() => store.audit.query({ order: 'asc', cursor: p1.nextCursor! })).toThrow(StoreError);
    expect(() => store.audit.query({ since: 'yesterday' })).toThrow(/since/);
  });

  it('keeps everything, revision and versions included, across a reopen', () => {
    store.commit([{ op: 'create', kind: 'models', name: 'a', spec: model('a') }], { actor: 't' });
    store.commit([{ op: 'create', kind: 'workloads', name: 'ns/w', spec: { name: 'w' } }], { actor: 't' });
    const before = store.snapshot();
    store.close();
    store = createStore({ path: join(dir, 'state.db') });
    expect(store.revision).toBe(2);
    expect(store.snapshot().resources).toEqual(before.resources);
    expect(store.get('workloads', 'ns/w')!.resourceVersion).toBe(2);
  });

  it('stores API tokens by hash, refuses reused names, revokes idempotently, and audits both', () => {
    const t = store.tokens.create({ id: '0123456789abcdef', name: 'ci', role: 'viewer', secretHash: 'ab'.repeat(32), createdBy: 'admin', expiresAt: undefined }, 'admin');
    expect(t.revokedAt).toBeUndefined();
    expect(() =>
      store.tokens.create({ id: 'fedcba9876543210', name: 'ci', role: 'admin', secretHash: 'cd'.repeat(32), createdBy: 'admin', expiresAt: undefined }, 'admin'),
    ).toThrow(/already exists/);
    const r1 = store.tokens.revoke(t.id, 'admin');
    const r2 = store.tokens.revoke(t.id, 'admin');
    expect(r2.revokedAt).toBe(r1.revokedAt);
    expect(() => store.tokens.revoke('ffffffffffffffff', 'admin')).toThrow(/does not exist/);
    store.close();
    store = createStore({ path: join(dir, 'state.db') });
    expect(store.tokens.get(t.id)).toMatchObject({ name: 'ci', role: 'viewer', secretHash: 'ab'.repeat(32), revokedAt: r1.revokedAt });
    const audit = store.audit.query({ kind: 'api-tokens', order: 'asc' }).items;
    expect(audit.map((e) => e.action)).toEqual(['create', 'revoke']);
    expect(JSON.stringify(audit)).not.toContain('ab'.repeat(32));
  });

  it('refuses to open a database from a newer schema version', () => {
    store.close();
    const db = new Database(join(dir, 'state.db'));
    db.pragma('user_version = 999');
    db.close();
    expect(() => createStore({ path: join(dir, 'state.db') })).toThrow(/newer than this control plane/);
    store = createStore({ path: ':memory:' });
  });

  it('applies migrations in order, each atomically', () => {
    const db = new Database(':memory:');
    const v = migrate(db, [
      { version: 1, sql: 'CREATE TABLE a (x INTEGER);' },
      { version: 2, sql: 'CREATE TABLE b (y INTEGER);' },
    ]);
    expect(v).toBe(2);
    expect(() => migrate(db, [...[{ version: 1, sql: '' }, { version: 2, sql: '' }], { version: 3, sql: 'CREATE TABLE c (z INTEGER); THIS IS NOT SQL;' }])).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'c'`).get()).toBeUndefined();
    db.close();
  });

  it('is unusable after close', () => {
    store.close();
    expect(() => store.snapshot()).toThrow(/closed/);
    store.close(); // idempotent
    store = createStore({ path: ':memory:' });
  });
});

describe('watchMeshModel', () => {
  it('delivers the current state at once, then every commit as a MeshModel at its revision', async () => {
    const { watchMeshModel } = await import('../../../control-plane/src/store/watch-mesh-model.js');
    const store = createStore({ path: ':memory:' });
    store.commit([{ op: 'create', kind: 'models', name: 'a', spec: model('a') }], { actor: 't' });
    const seen: [number, string[], boolean][] = [];
    const stop = watchMeshModel(store, 'mesh.test', (u) => seen.push([u.revision, u.model.models.map((m) => m.name), u.event !== undefined]));
    store.commit([{ op: 'create', kind: 'models', name: 'b', spec: model('b') }], { actor: 't' });
    store.commit([{ op: 'create', kind: 'mesh', name: 'mesh', spec: { trustDomain: 'other.test' } }], { actor: 't' });
    stop();
    store.commit([{ op: 'delete', kind: 'models', name: 'a' }], { actor: 't' });
    expect(seen).toEqual([
      [1, ['a'], false],
      [2, ['a', 'b'], true],
      [3, ['a', 'b'], true],
    ]);
    store.close();
  });
});

describe('batches touching one resource twice', () => {
  it('audit each step with the spec it replaced', () => {
    const store = createStore({ path: ':memory:' });
    store.commit(
      [
        { op: 'create', kind: 'models', name: 'a', spec: { step: 1 } },
        { op: 'update', kind: 'models', name: 'a', spec: { step: 2 } },
      ],
      { actor: 't' },
    );
    const entries = store.audit.query({ order: 'asc' }).items;
    expect(entries.map((e) => [e.action, e.before, e.after])).toEqual([
      ['create', undefined, { step: 1 }],
      ['update', { step: 1 }, { step: 2 }],
    ]);
    expect(store.get('models', 'a')!.spec).toEqual({ step: 2 });
    store.close();
  });
});
