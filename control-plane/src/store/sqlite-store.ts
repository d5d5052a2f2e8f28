import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { canonicalJson, deepFreeze } from './canonical-json.js';
import { decodeCursor, encodeCursor, pageLimit } from './cursor.js';
import { migrate } from './migrate.js';
import { RESOURCE_KINDS, type ResourceKind } from './resource-kind.js';
import { StoreError } from './store-error.js';
import type {
  ApiRole,
  ApiToken,
  ApiTokenStore,
  AuditEntry,
  AuditQuery,
  AuditRecord,
  Change,
  ChangeEvent,
  ChangeListener,
  ChangeResult,
  CommitOptions,
  CommitResult,
  ListOptions,
  Page,
  Store,
  StoredResource,
  StoreOptions,
  StoreSnapshot,
} from './store.js';

interface ResourceRow {
  kind: string;
  name: string;
  spec: string;
  resource_version: number;
  generation: number;
  created_at: string;
  updated_at: string;
  created_by: string;
  updated_by: string;
}

interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  kind: string;
  name: string;
  revision: number | null;
  from_version: number | null;
  to_version: number | null;
  before: string | null;
  after: string | null;
  reason: string | null;
}

interface TokenRow {
  id: string;
  name: string;
  role: ApiRole;
  secret_hash: string;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  revoked_at: string | null;
}

type KindMap = Map<ResourceKind, Map<string, StoredResource>>;

/**
 * The SQLite store, with its connection exposed for modules that keep their own tables in the same
 * database file (sqlite-ca-stores.ts). They must use `transaction()` for multi-statement writes
 * and must not touch the tables of this file.
 */
export interface SqliteStore extends Store {
  readonly database: Database.Database;
}

/**
 * The default {@link Store}: one SQLite database file (better-sqlite3) in WAL mode with
 * `synchronous = FULL`, so a commit is on disk before `commit()` returns — a process crash or a
 * power loss after the API's 2xx loses nothing.
 *
 * The whole declarative state is also held in memory (it is small: thousands of resources at most)
 * so reads and snapshots never touch the disk; the in-memory copy is only updated after the SQLite
 * transaction committed. One process owns the file: a second control plane writing the same
 * database is not supported (its writes would not be seen by this one's cache).
 */
export function createSqliteStore(options: StoreOptions): SqliteStore {
  const now = options.now ?? (() => new Date());
  const onListenerError =
    options.onListenerError ??
    ((err: unknown) => {
      process.stderr.write(`meshward store: change listener failed: ${String(err)}\n`);
    });

  let db: Database.Database;
  try {
    if (options.path !== ':memory:' && options.path !== '') {
      // The database holds token hashes and the audit trail: private to the control plane's user.
      mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
      closeSync(openSync(options.path, 'a', 0o600));
    }
    db = new Database(options.path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError('UNAVAILABLE', `cannot open the store database ${options.path}: ${String(err)}`, {
      cause: err,
    });
  }

  const stmt = {
    revision: db.prepare<[], { value: string }>(`SELECT value FROM meta WHERE key = 'revision'`),
    setRevision: db.prepare<[string]>(`UPDATE meta SET value = ? WHERE key = 'revision'`),
    allResources: db.prepare<[], ResourceRow>(`SELECT * FROM resources ORDER BY kind, name`),
    upsert: db.prepare<ResourceRow>(
      `INSERT INTO resources (kind, name, spec, resource_version, generation, created_at, updated_at, created_by, updated_by)
       VALUES (@kind, @name, @spec, @resource_version, @generation, @created_at, @updated_at, @created_by, @updated_by)
       ON CONFLICT (kind, name) DO UPDATE SET spec = excluded.spec, resource_version = excluded.resource_version,
         generation = excluded.generation, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
    ),
    remove: db.prepare<[string, string]>(`DELETE FROM resources WHERE kind = ? AND name = ?`),
    audit: db.prepare<Omit<AuditRow, 'id'>>(
      `INSERT INTO audit (at, actor, action, kind, name, revision, from_version, to_version, before, after, reason)
       VALUES (@at, @actor, @action, @kind, @name, @revision, @from_version, @to_version, @before, @after, @reason)`,
    ),
    auditById: db.prepare<[number], AuditRow>(`SELECT * FROM audit WHERE id = ?`),
    allTokens: db.prepare<[], TokenRow>(`SELECT * FROM api_tokens`),
    insertToken: db.prepare<TokenRow>(
      `INSERT INTO api_tokens (id, name, role, secret_hash, created_at, created_by, expires_at, revoked_at)
       VALUES (@id, @name, @role, @secret_hash, @created_at, @created_by, @expires_at, @revoked_at)`,
    ),
    revokeToken: db.prepare<[string, string]>(`UPDATE api_tokens SET revoked_at = ? WHERE id = ?`),
  };

  // ---- in-memory state, loaded once -------------------------------------------------------------
  let revision = Number(stmt.revision.get()?.value ?? '0');
  const state: KindMap = new Map(RESOURCE_KINDS.map((k) => [k, new Map()]));
  for (const row of stmt.allResources.all()) {
    const kindMap = state.get(row.kind as ResourceKind);
    if (kindMap === undefined) continue; // a kind this build does not know: kept on disk, not served
    kindMap.set(row.name, rowToResource(row));
  }
  const tokens = new Map<string, ApiToken>();
  for (const row of stmt.allTokens.all()) tokens.set(row.id, rowToToken(row));

  let cachedSnapshot: StoreSnapshot | undefined;
  const listeners = new Set<ChangeListener>();
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new StoreError('UNAVAILABLE', 'the store is closed');
  }

  function snapshot(): StoreSnapshot {
    cachedSnapshot ??= buildSnapshot(revision, state);
    return cachedSnapshot;
  }

  function writeAudit(row: Omit<AuditRow, 'id'>): number {
    return Number(stmt.audit.run(row).lastInsertRowid);
  }

  function commit(changes: readonly Change[], opts: CommitOptions): CommitResult {
    assertOpen();
    if (changes.length === 0) return { revision, changed: false, dryRun: opts.dryRun === true, results: [] };
    const at = now().toISOString();
    const nextRevision = revision + 1;
    // Copy-on-write working state: only kinds touched by the batch are copied.
    const working: KindMap = new Map(state);
    const touched = new Set<ResourceKind>();
    const results: ChangeResult[] = [];
    const effective: Change[] = [];
    // The spec each change replaced (for the audit trail), also right when a batch touches one resource twice.
    const replaced: unknown[] = [];

    for (const change of changes) {
      if (!touched.has(change.kind)) {
        working.set(change.kind, new Map(state.get(change.kind)));
        touched.add(change.kind);
      }
      const kindMap = working.get(change.kind)!;
      const current = kindMap.get(change.name);
      replaced.push(current?.spec);
      const ref = { kind: change.kind, name: change.name };
      if (change.op === 'create') {
        if (current !== undefined) {
          throw new StoreError('ALREADY_EXISTS', `${change.kind}/${change.name} already exists`, {
            resource: ref,
            currentVersion: current.resourceVersion,
          });
        }
        const resource = freezeResource({
          kind: change.kind,
          name: change.name,
          spec: cloneJson(change.spec),
          resourceVersion: nextRevision,
          generation: 1,
          createdAt: at,
          updatedAt: at,
          createdBy: opts.actor,
          updatedBy: opts.actor,
        });
        kindMap.set(change.name, resource);
        results.push({ change, resource, fromVersion: undefined, toVersion: nextRevision, changed: true });
        effective.push(change);
        continue;
      }
      if (current === undefined) {
        throw new StoreError('NOT_FOUND', `${change.kind}/${change.name} does not exist`, { resource: ref });
      }
      if (change.ifMatch !== undefined && change.ifMatch !== current.resourceVersion) {
        throw new StoreError(
          'VERSION_MISMATCH',
          `${change.kind}/${change.name} is at version ${current.resourceVersion}, not ${change.ifMatch}`,
          { resource: ref, currentVersion: current.resourceVersion },
        );
      }
      if (change.op === 'delete') {
        kindMap.delete(change.name);
        results.push({
          change,
          resource: undefined,
          fromVersion: current.resourceVersion,
          toVersion: undefined,
          changed: true,
        });
        effective.push(change);
        continue;
      }
      if (canonicalJson(change.spec) === canonicalJson(current.spec)) {
        results.push({
          change,
          resource: current,
          fromVersion: current.resourceVersion,
          toVersion: current.resourceVersion,
          changed: false,
        });
        continue;
      }
      const resource = freezeResource({
        ...current,
        spec: cloneJson(change.spec),
        resourceVersion: nextRevision,
        generation: current.generation + 1,
        updatedAt: at,
        updatedBy: opts.actor,
      });
      kindMap.set(change.name, resource);
      results.push({
        change,
        resource,
        fromVersion: current.resourceVersion,
        toVersion: nextRevision,
        changed: true,
      });
      effective.push(change);
    }

    if (effective.length === 0) return { revision, changed: false, dryRun: opts.dryRun === true, results };

    const candidate = buildSnapshot(nextRevision, working);
    opts.validate?.(candidate, effective);
    if (opts.dryRun === true) return { revision: nextRevision, changed: true, dryRun: true, results };

    try {
      db.transaction(() => {
        for (const [i, r] of results.entries()) {
          if (!r.changed) continue;
          const { kind, name } = r.change;
          if (r.resource === undefined) stmt.remove.run(kind, name);
          else stmt.upsert.run(resourceToRow(r.resource));
          const before = replaced[i];
          writeAudit({
            at,
            actor: opts.actor,
            action: r.change.op,
            kind,
            name,
            revision: nextRevision,
            from_version: r.fromVersion ?? null,
            to_version: r.toVersion ?? null,
            before: before === undefined ? null : JSON.stringify(before),
            after: r.resource === undefined ? null : JSON.stringify(r.resource.spec),
            reason: opts.reason ?? null,
          });
        }
        stmt.setRevision.run(String(nextRevision));
      })();
    } catch (err) {
      throw new StoreError('UNAVAILABLE', `commit failed: ${String(err)}`, { cause: err });
    }

    // Durable: publish to memory, then tell listeners.
    for (const kind of touched) state.set(kind, working.get(kind)!);
    revision = nextRevision;
    cachedSnapshot = candidate;
    const event: ChangeEvent = deepFreeze({
      revision: nextRevision,
      at,
      actor: opts.actor,
      changes: results
        .filter((r) => r.changed)
        .map((r) => ({
          op: r.change.op,
          kind: r.change.kind,
          name: r.change.name,
          fromVersion: r.fromVersion,
          toVersion: r.toVersion,
        })),
      snapshot: candidate,
    });
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (err) {
        onListenerError(err);
      }
    }
    return { revision: nextRevision, changed: true, dryRun: false, results };
  }

  function list(kind: ResourceKind, options: ListOptions = {}): Page<StoredResource> {
    assertOpen();
    const limit = pageLimit(options.limit);
    const all = snapshot().resources[kind];
    let start = 0;
    if (options.cursor !== undefined) {
      const { n } = decodeCursor(options.cursor, (v): v is { n: string } => typeof v['n'] === 'string');
      start = upperBound(all, n);
    }
    const items = all.slice(start, start + limit);
    const more = start + limit < all.length;
    return more ? { items, nextCursor: encodeCursor({ n: items[items.length - 1]!.name }) } : { items };
  }

  function queryAudit(query: AuditQuery = {}): Page<AuditEntry> {
    assertOpen();
    const limit = pageLimit(query.limit);
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.since !== undefined) {
      where.push('at >= ?');
      params.push(normalizeTime(query.since, '/since'));
    }
    if (query.until !== undefined) {
      where.push('at < ?');
      params.push(normalizeTime(query.until, '/until'));
    }
    if (query.actor !== undefined) {
      where.push('actor = ?');
      params.push(query.actor);
    }
    if (query.kind !== undefined) {
      where.push('kind = ?');
      params.push(query.kind);
    }
    if (query.name !== undefined) {
      where.push('name = ?');
      params.push(query.name);
    }
    const order = query.order ?? 'desc';
    if (query.cursor !== undefined) {
      const c = decodeCursor(
        query.cursor,
        (v): v is { id: number; o: string } => typeof v['id'] === 'number' && v['o'] === order,
      );
      where.push(order === 'desc' ? 'id < ?' : 'id > ?');
      params.push(c.id);
    }
    const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${
      order === 'desc' ? 'DESC' : 'ASC'
    } LIMIT ?`;
    const rows = db.prepare<(string | number)[], AuditRow>(sql).all(...params, limit + 1);
    const items = rows.slice(0, limit).map(rowToAudit);
    return rows.length > limit
      ? { items, nextCursor: encodeCursor({ id: items[items.length - 1]!.id, o: order }) }
      : { items };
  }

  function recordAudit(entry: AuditRecord): AuditEntry {
    assertOpen();
    const id = writeAudit(auditRecordRow(entry, now().toISOString()));
    return rowToAudit(stmt.auditById.get(id)!);
  }

  const tokenStore: ApiTokenStore = {
    create(token, actor) {
      assertOpen();
      const created: ApiToken = Object.freeze({ ...token, createdAt: now().toISOString(), revokedAt: undefined });
      for (const t of tokens.values()) {
        if (t.id === created.id || t.name === created.name) {
          throw new StoreError('ALREADY_EXISTS', `an API token named ${created.name} already exists`, {
            resource: { kind: 'api-tokens', name: created.name },
            issues: [{ field: '/name', reason: 'is already used by another token (names are never reused)' }],
          });
        }
      }
      db.transaction(() => {
        stmt.insertToken.run(tokenToRow(created));
        writeAudit(
          auditRecordRow(
            { actor, action: 'create', kind: 'api-tokens', name: created.name, after: publicToken(created) },
            created.createdAt,
          ),
        );
      })();
      tokens.set(created.id, created);
      return created;
    },
    get(id) {
      assertOpen();
      return tokens.get(id);
    },
    list(options = {}) {
      assertOpen();
      const limit = pageLimit(options.limit);
      const all = [...tokens.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      let start = 0;
      if (options.cursor !== undefined) {
        const { i } = decodeCursor(options.cursor, (v): v is { i: string } => typeof v['i'] === 'string');
        start = all.findIndex((t) => t.id > i);
        if (start < 0) start = all.length;
      }
      const items = all.slice(start, start + limit);
      return start + limit < all.length
        ? { items, nextCursor: encodeCursor({ i: items[items.length - 1]!.id }) }
        : { items };
    },
    revoke(id, actor) {
      assertOpen();
      const current = tokens.get(id);
      if (current === undefined) {
        throw new StoreError('NOT_FOUND', `API token ${id} does not exist`, { resource: { kind: 'api-tokens', name: id } });
      }
      if (current.revokedAt !== undefined) return current;
      const at = now().toISOString();
      const revoked: ApiToken = Object.freeze({ ...current, revokedAt: at });
      db.transaction(() => {
        stmt.revokeToken.run(at, id);
        writeAudit(
          auditRecordRow(
            {
              actor,
              action: 'revoke',
              kind: 'api-tokens',
              name: current.name,
              before: publicToken(current),
              after: publicToken(revoked),
            },
            at,
          ),
        );
      })();
      tokens.set(id, revoked);
      return revoked;
    },
    count() {
      return tokens.size;
    },
  };

  return {
    get database() {
      assertOpen();
      return db;
    },
    get revision() {
      return revision;
    },
    snapshot() {
      assertOpen();
      return snapshot();
    },
    get(kind, name) {
      assertOpen();
      return state.get(kind)?.get(name);
    },
    list,
    commit,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    audit: { query: queryAudit, record: recordAudit },
    tokens: tokenStore,
    transaction<T>(fn: () => T): T {
      assertOpen();
      return db.transaction(fn)();
    },
    close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      db.close();
    },
  };
}

/** The token without its secret hash: what audit entries and API responses show. */
export function publicToken(t: ApiToken): Omit<ApiToken, 'secretHash'> {
  const { secretHash: _omit, ...rest } = t;
  return rest;
}

function auditRecordRow(entry: AuditRecord, at: string): Omit<AuditRow, 'id'> {
  return {
    at,
    actor: entry.actor,
    action: entry.action,
    kind: entry.kind,
    name: entry.name,
    revision: null,
    from_version: null,
    to_version: null,
    before: entry.before === undefined ? null : JSON.stringify(entry.before),
    after: entry.after === undefined ? null : JSON.stringify(entry.after),
    reason: entry.reason ?? null,
  };
}

function buildSnapshot(revision: number, state: KindMap): StoreSnapshot {
  const resources = {} as { [K in ResourceKind]: readonly StoredResource[] };
  for (const kind of RESOURCE_KINDS) {
    const items = [...(state.get(kind)?.values() ?? [])].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    resources[kind] = Object.freeze(items);
  }
  const byKind = new Map(RESOURCE_KINDS.map((k) => [k, new Map(state.get(k))]));
  return Object.freeze({
    revision,
    resources: Object.freeze(resources),
    get(kind: ResourceKind, name: string) {
      return byKind.get(kind)?.get(name);
    },
  });
}

function upperBound(items: readonly StoredResource[], name: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid]!.name <= name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function normalizeTime(value: string, field: string): string {
  const t = Date.parse(value);
  if (Number.isNaN(t)) {
    throw new StoreError('INVALID', `${field.slice(1)} is not a date-time`, {
      issues: [{ field, reason: 'must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z' }],
    });
  }
  return new Date(t).toISOString();
}

function cloneJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null));
}

function freezeResource(r: StoredResource): StoredResource {
  return deepFreeze(r);
}

function resourceToRow(r: StoredResource): ResourceRow {
  return {
    kind: r.kind,
    name: r.name,
    spec: canonicalJson(r.spec),
    resource_version: r.resourceVersion,
    generation: r.generation,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
    created_by: r.createdBy,
    updated_by: r.updatedBy,
  };
}

function rowToResource(row: ResourceRow): StoredResource {
  return deepFreeze({
    kind: row.kind as ResourceKind,
    name: row.name,
    spec: JSON.parse(row.spec) as unknown,
    resourceVersion: row.resource_version,
    generation: row.generation,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by,
    updatedBy: row.updated_by,
  });
}

function rowToAudit(row: AuditRow): AuditEntry {
  return deepFreeze({
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    kind: row.kind,
    name: row.name,
    revision: row.revision ?? undefined,
    fromVersion: row.from_version ?? undefined,
    toVersion: row.to_version ?? undefined,
    before: row.before === null ? undefined : (JSON.parse(row.before) as unknown),
    after: row.after === null ? undefined : (JSON.parse(row.after) as unknown),
    reason: row.reason ?? undefined,
  });
}

function tokenToRow(t: ApiToken): TokenRow {
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    secret_hash: t.secretHash,
    created_at: t.createdAt,
    created_by: t.createdBy,
    expires_at: t.expiresAt ?? null,
    revoked_at: t.revokedAt ?? null,
  };
}

function rowToToken(row: TokenRow): ApiToken {
  return Object.freeze({
    id: row.id,
    name: row.name,
    role: row.role,
    secretHash: row.secret_hash,
    createdAt: row.created_at,
    createdBy: row.created_by,
    expiresAt: row.expires_at ?? undefined,
    revokedAt: row.revoked_at ?? undefined,
  });
}
