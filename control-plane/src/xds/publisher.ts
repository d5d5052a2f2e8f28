import { XdsError } from './errors.js';
import { createSnapshot, type CreateSnapshotOptions, type Snapshot, type SnapshotInput } from './snapshot.js';
import type { SnapshotCache } from './snapshot-cache.js';

/**
 * Builds the snapshot inputs of every group from the current domain state. Called by the publisher
 * after a debounced burst of changes, with the changes of the burst (in order). Return only the
 * groups to (re)publish; groups not returned keep their snapshot.
 */
export type BuildSnapshots<C> = (
  changes: readonly C[],
) => ReadonlyMap<string, SnapshotInput | Snapshot> | Promise<ReadonlyMap<string, SnapshotInput | Snapshot>>;

/** The outcome of one debounced publish. */
export interface PublishResult {
  /** Number of changes coalesced into this publish. */
  readonly changes: number;
  /** Groups whose snapshot was published, with the version stored. Empty when refused. */
  readonly published: ReadonlyArray<{ readonly group: string; readonly version: string }>;
  /** Set when the batch was refused: no group was published and the previous snapshots keep serving. */
  readonly error: XdsError | undefined;
  /** The group whose snapshot was refused, when known. */
  readonly refusedGroup: string | undefined;
}

export interface PublisherOptions<C> {
  readonly cache: SnapshotCache;
  readonly build: BuildSnapshots<C>;
  /** Quiet window: publish once no change arrived for this long. Defaults to 100 ms. */
  readonly quietMs?: number;
  /** Maximum delay between the first change of a burst and its publish. Defaults to 1000 ms. */
  readonly maxDelayMs?: number;
  /** Options for `createSnapshot` (consistency check, per-identity secret names). */
  readonly snapshotOptions?: CreateSnapshotOptions;
  /** Called after every publish attempt (success or refusal). */
  readonly onPublish?: (result: PublishResult) => void;
}

/**
 * Debounces domain changes into snapshot publishes (istio pilot style): a publish happens when the
 * quiet window passes with no new change, or when the maximum delay since the burst's first change
 * is reached, whichever comes first. Every group's snapshot is built and checked before any is
 * published: a refused group refuses the whole batch, naming the group, resource and reason, and
 * the previous snapshots keep serving. Publishes never overlap; changes arriving during one start
 * the next burst.
 */
export interface Publisher<C> {
  /** Records a change and (re)arms the debounce timers. */
  notify(change: C): void;
  /** Publishes pending changes now (also with none pending: a full rebuild). */
  flush(): Promise<PublishResult>;
  /** Number of changes waiting for the next publish. */
  readonly pending: number;
  /** Cancels timers; pending changes are dropped. */
  close(): void;
}

export function createPublisher<C>(options: PublisherOptions<C>): Publisher<C> {
  const quietMs = options.quietMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 1000;
  if (!(quietMs >= 0) || !(maxDelayMs >= quietMs)) {
    throw new XdsError('INVALID_ARGUMENT', `quietMs/maxDelayMs: need 0 <= quietMs <= maxDelayMs, got ${quietMs}/${maxDelayMs}`);
  }
  let changes: C[] = [];
  let quietTimer: NodeJS.Timeout | undefined;
  let maxTimer: NodeJS.Timeout | undefined;
  let running: Promise<PublishResult> = Promise.resolve({ changes: 0, published: [], error: undefined, refusedGroup: undefined });
  let closed = false;

  const clearTimers = (): void => {
    if (quietTimer !== undefined) clearTimeout(quietTimer);
    if (maxTimer !== undefined) clearTimeout(maxTimer);
    quietTimer = maxTimer = undefined;
  };

  const publishBatch = async (batch: C[]): Promise<PublishResult> => {
    let refusedGroup: string | undefined;
    try {
      const inputs = await options.build(batch);
      const built: Array<[string, Snapshot]> = [];
      for (const [group, input] of inputs) {
        refusedGroup = group;
        const snap = 'type' in input && typeof input.type === 'function' ? input : createSnapshot(input as SnapshotInput, options.snapshotOptions);
        built.push([group, snap as Snapshot]);
      }
      refusedGroup = undefined;
      const published: Array<{ group: string; version: string }> = [];
      for (const [group, snap] of built) {
        refusedGroup = group;
        const stored = options.cache.setSnapshot(group, snap);
        published.push({ group, version: stored.version });
      }
      return { changes: batch.length, published, error: undefined, refusedGroup: undefined };
    } catch (err) {
      const e = XdsError.from(err, 'INVALID_SNAPSHOT');
      const error = refusedGroup === undefined ? e : new XdsError(e.code, `group "${refusedGroup}": ${e.message}`, {
        cause: e,
        ...(e.typeUrl !== undefined ? { typeUrl: e.typeUrl } : {}),
        ...(e.resourceName !== undefined ? { resourceName: e.resourceName } : {}),
      });
      return { changes: batch.length, published: [], error, refusedGroup };
    }
  };

  const run = (): Promise<PublishResult> => {
    clearTimers();
    const batch = changes;
    changes = [];
    running = running.then(() => publishBatch(batch)).then((result) => {
      options.onPublish?.(result);
      return result;
    });
    return running;
  };

  return {
    notify(change) {
      if (closed) throw new XdsError('INVALID_ARGUMENT', 'notify: publisher is closed');
      changes.push(change);
      if (quietTimer !== undefined) clearTimeout(quietTimer);
      quietTimer = setTimeout(() => void run(), quietMs);
      maxTimer ??= setTimeout(() => void run(), maxDelayMs);
    },
    flush() {
      return run();
    },
    get pending() {
      return changes.length;
    },
    close() {
      closed = true;
      clearTimers();
      changes = [];
    },
  };
}
