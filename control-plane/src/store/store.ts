/**
 * The persistence boundary of the control plane: declarative resources (workloads, models,
 * policies, ...), the audit trail, and the REST API's bearer tokens.
 *
 * Contracts every implementation keeps:
 * - `commit()` is atomic: every change of the batch, its audit entries and the revision bump are
 *   written in one transaction, and the transaction is durable before `commit()` returns. A change
 *   refused by the validator (or by a precondition) writes nothing.
 * - The store's `revision` grows by exactly one per commit that changed something, never otherwise;
 *   an update whose spec equals the stored one is a no-op (no bump, no audit entry). Revisions and
 *   each resource's `resourceVersion` survive restarts unchanged, so a restarted control plane
 *   serves the same versions it served before.
 * - Change listeners run synchronously after the commit is durable, in registration order; a
 *   listener that throws is reported to `onListenerError` and never undoes the commit.
 * - Everything returned is immutable (frozen); callers never mutate what they get.
 *
 * The SQLite implementation (`createSqliteStore`) is the default; a server database can be added
 * behind this interface later.
 */

import type { ResourceKind } from './resource-kind.js';
import { createSqliteStore } from './sqlite-store.js';
export { RESOURCE_KINDS, isResourceKind, type ResourceKind } from './resource-kind.js';

/** A stored declarative resource. `spec` is whatever the API validated; the store treats it as JSON. */
export interface StoredResource<S = unknown> {
  readonly kind: ResourceKind;
  readonly name: string;
  readonly spec: S;
  /** The store revision of the commit that last changed this resource (an ETag; like Kubernetes' resourceVersion). */
  readonly resourceVersion: number;
  /** Number of times the spec changed since creation (1 on create). */
  readonly generation: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly createdBy: string;
  readonly updatedBy: string;
}

/** One change of a commit. `ifMatch` is the resourceVersion the caller last saw; omitted = no precondition. */
export type Change =
  | { readonly op: 'create'; readonly kind: ResourceKind; readonly name: string; readonly spec: unknown }
  | {
      readonly op: 'update';
      readonly kind: ResourceKind;
      readonly name: string;
      readonly spec: unknown;
      readonly ifMatch?: number;
    }
  | { readonly op: 'delete'; readonly kind: ResourceKind; readonly name: string; readonly ifMatch?: number };

/** The whole declarative state at one revision. Immutable; cheap to take (shared until the next commit). */
export interface StoreSnapshot {
  readonly revision: number;
  /** Resources of each kind, sorted by name. */
  readonly resources: { readonly [K in ResourceKind]: readonly StoredResource[] };
  get(kind: ResourceKind, name: string): StoredResource | undefined;
}

/**
 * Checks a candidate state before it is committed. Throw a StoreError('INVALID' | 'REFERENCED')
 * (or any error, which aborts the commit and propagates) to refuse it; return to accept it.
 * `changed` lists the changes that produced `candidate` (no-ops removed).
 */
export type CandidateValidator = (candidate: StoreSnapshot, changed: readonly Change[]) => void;
// Contract: when the commit goes through, `store.snapshot()` afterwards returns this very
// `candidate` object (so validators may cache per snapshot identity).


export interface CommitOptions {
  /** Who makes the change (token name, `system`, ...). Recorded in the audit trail. */
  readonly actor: string;
  readonly validate?: CandidateValidator;
  /** Free text stored with the audit entries (e.g. a change ticket). */
  readonly reason?: string;
  /**
   * Check everything (preconditions, validator) and return what would be committed, without
   * writing, bumping the revision or notifying listeners. The returned revision/versions are the
   * ones a real commit would produce now.
   */
  readonly dryRun?: boolean;
}

export interface ChangeResult {
  readonly change: Change;
  /** The resource after the change; undefined after a delete. */
  readonly resource: StoredResource | undefined;
  /** resourceVersion before (undefined on create) and after (undefined on delete). */
  readonly fromVersion: number | undefined;
  readonly toVersion: number | undefined;
  /** False when the change was a no-op (update with an identical spec). */
  readonly changed: boolean;
}

export interface CommitResult {
  /** The store revision after the commit (unchanged if nothing changed). */
  readonly revision: number;
  readonly changed: boolean;
  /** True when nothing was written because CommitOptions.dryRun was set. */
  readonly dryRun: boolean;
  readonly results: readonly ChangeResult[];
}

/** Emitted once per commit that changed something, after it is durable. */
export interface ChangeEvent {
  readonly revision: number;
  readonly at: string;
  readonly actor: string;
  readonly changes: readonly {
    readonly op: Change['op'];
    readonly kind: ResourceKind;
    readonly name: string;
    readonly fromVersion: number | undefined;
    readonly toVersion: number | undefined;
  }[];
  /** The state after this commit (the same object `store.snapshot()` returns until the next commit). */
  readonly snapshot: StoreSnapshot;
}
export type ChangeListener = (event: ChangeEvent) => void;

export interface Page<T> {
  readonly items: readonly T[];
  /** Opaque; pass as `cursor` to get the next page. Absent on the last page. */
  readonly nextCursor?: string;
}

export interface ListOptions {
  /** 1..1000. Defaults to 50. */
  readonly limit?: number;
  readonly cursor?: string;
}

/** One audit entry: who changed what, when, from which version to which. */
export interface AuditEntry {
  /** Monotonic id (also the order). */
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  /** `create` | `update` | `delete` for resources; other verbs (e.g. `revoke`, `issue`) for tokens, certificates. */
  readonly action: string;
  /** Resource kind (e.g. `workloads`) or an API-level kind (`api-tokens`, `certificates`, `join-tokens`). */
  readonly kind: string;
  readonly name: string;
  /** Store revision the entry belongs to; undefined for changes outside the declarative config. */
  readonly revision: number | undefined;
  readonly fromVersion: number | undefined;
  readonly toVersion: number | undefined;
  readonly before: unknown;
  readonly after: unknown;
  readonly reason: string | undefined;
}

export interface AuditQuery extends ListOptions {
  /** Inclusive lower bound (ISO 8601). */
  readonly since?: string;
  /** Exclusive upper bound (ISO 8601). */
  readonly until?: string;
  readonly actor?: string;
  readonly kind?: string;
  readonly name?: string;
  /** `desc` (newest first, the default) or `asc`. */
  readonly order?: 'asc' | 'desc';
}

/** An audit entry that is not a resource change (tokens, certificates, join tokens). */
export interface AuditRecord {
  readonly actor: string;
  readonly action: string;
  readonly kind: string;
  readonly name: string;
  readonly before?: unknown;
  readonly after?: unknown;
  readonly reason?: string;
}

/**
 * What an API token may do: `admin` everything; `viewer` every read (and the read-only POSTs);
 * `proxy` only what proxies call (`POST /v1/budget-leases`), nothing else. See `Access` in
 * api/principal.ts for how routes map to roles.
 */
export type ApiRole = 'admin' | 'viewer' | 'proxy';

/** Every API role, in the order the API documents them. */
export const API_ROLES: readonly ApiRole[] = ['admin', 'viewer', 'proxy'];

/** A REST API bearer token. Only a hash of its secret is stored. */
export interface ApiToken {
  /** Public identifier, part of the token string (`mw_<id>_<secret>`). */
  readonly id: string;
  readonly name: string;
  readonly role: ApiRole;
  /** Hex SHA-256 of the secret part. */
  readonly secretHash: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string | undefined;
  readonly revokedAt: string | undefined;
}

export interface ApiTokenStore {
  /** Writes the token and its audit entry in one transaction. Throws ALREADY_EXISTS on a duplicate id or name. */
  create(token: Omit<ApiToken, 'revokedAt' | 'createdAt'>, actor: string): ApiToken;
  get(id: string): ApiToken | undefined;
  list(options?: ListOptions): Page<ApiToken>;
  /** Marks the token revoked (idempotent: revoking twice keeps the first time). Throws NOT_FOUND. */
  revoke(id: string, actor: string): ApiToken;
  count(): number;
}

export interface Store {
  /** Current revision; 0 for an empty store. */
  readonly revision: number;
  snapshot(): StoreSnapshot;
  get(kind: ResourceKind, name: string): StoredResource | undefined;
  /** Resources of one kind ordered by name, paginated. */
  list(kind: ResourceKind, options?: ListOptions): Page<StoredResource>;
  /** Applies a batch atomically. See the interface contract. */
  commit(changes: readonly Change[], options: CommitOptions): CommitResult;
  /** Subscribes to committed changes; returns the unsubscribe function. */
  onChange(listener: ChangeListener): () => void;
  readonly audit: {
    query(query?: AuditQuery): Page<AuditEntry>;
    /** Appends an entry outside a resource commit (still durable before return). */
    record(entry: AuditRecord): AuditEntry;
  };
  readonly tokens: ApiTokenStore;
  /**
   * Runs `fn` inside one database transaction, for modules that keep their own tables in the same
   * database (e.g. the CA stores) and want their write and its audit record to be atomic.
   */
  transaction<T>(fn: () => T): T;
  /** Closes the database. Further calls throw UNAVAILABLE. Idempotent. */
  close(): void;
}

export interface StoreOptions {
  /** SQLite database file, or `:memory:` for a throw-away store (tests). */
  readonly path: string;
  /** Clock for timestamps; defaults to `() => new Date()`. */
  readonly now?: () => Date;
  /** Called when a change listener throws; defaults to printing to stderr. */
  readonly onListenerError?: (err: unknown) => void;
}


/**
 * Opens the store. Today that is always SQLite (`path` is a file, or `:memory:`); the factory is
 * the seam where a server database would be chosen.
 */
export function createStore(options: StoreOptions): Store {
  return createSqliteStore(options);
}
