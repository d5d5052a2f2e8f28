/**
 * Keeps xDS version_info stable across restarts, per type.
 *
 * Within one process the snapshot cache keeps a type's version while its content is unchanged
 * (a weight change bumps RDS, not LDS/CDS). A fresh process has no previous snapshot, so without
 * help every type would come back at the current revision — a version bump with identical
 * content. The controller therefore records, after each publish, each group's per-type
 * `{ version, digest }`, and seeds the first snapshot of a group after a restart with the recorded
 * version of every type whose content digest is unchanged ({@link seedSnapshot}, pure: it reuses
 * the snapshot's encoded resources and only relabels the type's version_info). The
 * record is a small JSON file in the data directory ({@link createTypeVersionFile}), written
 * atomically; a missing or unreadable file just means no seeding.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { ALL_TYPE_URLS, type TypeUrl } from '../xds/type-urls.js';
import { XdsError } from '../xds/errors.js';
import { createTypeSnapshot, type Snapshot, type TypeSnapshot } from '../xds/snapshot.js';

/** One type's served version and content digest. */
export interface TypeVersion {
  readonly version: string;
  readonly digest: string;
}
/** typeUrl → TypeVersion, for one group. */
export type GroupTypeVersions = Readonly<Partial<Record<TypeUrl, TypeVersion>>>;

/** What a snapshot's per-type versions are, for recording. */
export function typeVersionsOf(snapshot: Snapshot): GroupTypeVersions {
  const out: Partial<Record<TypeUrl, TypeVersion>> = {};
  for (const t of ALL_TYPE_URLS) {
    const ts = snapshot.type(t);
    out[t] = { version: ts.version, digest: ts.digest };
  }
  return out;
}

/**
 * `next` with every type whose digest equals the recorded one carrying the recorded version
 * (content unchanged since the recording); other types keep `next.version`. Pure; `next` is
 * already consistency-checked, and the intermediate snapshots built here only carry versions.
 */
export function seedSnapshot(next: Snapshot, recorded: GroupTypeVersions | undefined): Snapshot {
  if (recorded === undefined) return next;
  const seeded = new Map<TypeUrl, TypeSnapshot>();
  for (const t of ALL_TYPE_URLS) {
    const r = recorded[t];
    const ts = next.type(t);
    seeded.set(t, r !== undefined && r.digest === ts.digest && r.version !== ts.version ? createTypeSnapshot(t, r.version, ts.resources) : ts);
  }
  if (ALL_TYPE_URLS.every((t) => seeded.get(t) === next.type(t))) return next;
  return Object.freeze({
    version: next.version,
    createdAt: next.createdAt,
    counts: next.counts,
    type(typeUrl: TypeUrl): TypeSnapshot {
      const ts = seeded.get(typeUrl);
      if (ts === undefined) throw new XdsError('INVALID_ARGUMENT', `typeUrl: "${typeUrl}" is not served`);
      return ts;
    },
  });
}

/** The recorded versions of every group, persisted in one JSON file. */
export interface TypeVersionFile {
  get(group: string): GroupTypeVersions | undefined;
  /** Records the groups' versions and writes the file (atomically: temp file, fsync, rename). */
  record(entries: ReadonlyArray<readonly [string, GroupTypeVersions]>): void;
}

export function createTypeVersionFile(path: string, onError: (err: unknown) => void = () => {}): TypeVersionFile {
  let groups: Record<string, GroupTypeVersions> = {};
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { groups?: Record<string, GroupTypeVersions> };
    if (typeof parsed === 'object' && parsed !== null && typeof parsed.groups === 'object' && parsed.groups !== null) groups = parsed.groups;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onError(err);
  }
  return {
    get: (group) => groups[group],
    record(entries) {
      if (entries.length === 0) return;
      groups = { ...groups };
      for (const [g, v] of entries) groups[g] = v;
      const tmp = `${path}.${process.pid}.tmp`;
      try {
        const fd = openSync(tmp, 'w', 0o600);
        try {
          writeSync(fd, JSON.stringify({ groups }, null, 1));
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, path);
      } catch (err) {
        onError(err);
      }
    },
  };
}

/** A TypeVersionFile that remembers nothing (tests, in-memory stores). */
export function createMemoryTypeVersions(): TypeVersionFile {
  const groups = new Map<string, GroupTypeVersions>();
  return {
    get: (g) => groups.get(g),
    record(entries) {
      for (const [g, v] of entries) groups.set(g, v);
    },
  };
}
