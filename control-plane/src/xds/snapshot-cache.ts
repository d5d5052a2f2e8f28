import type { Node } from '../gen/envoy/config/core/v3/base_pb.js';
import { XdsError } from './errors.js';
import { groupByMetadata, type GroupOf } from './node-group.js';
import { ALL_TYPE_URLS } from './type-urls.js';
import { rebaseSnapshot, type Snapshot } from './snapshot.js';

/** Called with the group's new snapshot each time one is published for the group. */
export type SnapshotListener = (snapshot: Snapshot) => void;

/**
 * Holds the current snapshot of every node group and tells the streams of a group when it changes
 * (the go-control-plane `SnapshotCache`, with groups instead of node ids). Streams never read the
 * store: they only watch their group here.
 */
export interface SnapshotCache {
  /** The group of a node (the pluggable `groupOf` given to the factory). */
  groupOf(node: Node): string;
  /**
   * Publishes `snapshot` for `group` and notifies the group's watchers. Unchanged types keep their
   * previous version (see `rebaseSnapshot`), so streams only get pushes for types whose content
   * changed. Throws `XdsError('INVALID_SNAPSHOT')` when `snapshot.version` was already published
   * for this group with different content; the previous snapshot then keeps serving.
   * Returns the snapshot as stored (rebased).
   */
  setSnapshot(group: string, snapshot: Snapshot): Snapshot;
  getSnapshot(group: string): Snapshot | undefined;
  /** Forgets a group's snapshot; its streams keep what they have and receive nothing new. */
  clearSnapshot(group: string): void;
  groups(): string[];
  /** Registers a watcher for a group; returns the function that removes it. */
  watch(group: string, listener: SnapshotListener): () => void;
}

export interface SnapshotCacheOptions {
  /** Defaults to `groupByMetadata(['role'])`. */
  readonly groupOf?: GroupOf;
}

export function createSnapshotCache(options: SnapshotCacheOptions = {}): SnapshotCache {
  const groupOf = options.groupOf ?? groupByMetadata();
  const snapshots = new Map<string, Snapshot>();
  // A Set per group: 10k streams joining and leaving stay O(1) each (EventEmitter.off is O(n)).
  const watchers = new Map<string, Set<SnapshotListener>>();

  return {
    groupOf(node) {
      const g = groupOf(node);
      if (typeof g !== 'string' || g === '') throw new XdsError('INVALID_ARGUMENT', 'groupOf: returned an empty group');
      return g;
    },
    setSnapshot(group, snapshot) {
      if (group === '') throw new XdsError('INVALID_ARGUMENT', 'group: must be a non-empty string');
      const previous = snapshots.get(group);
      if (previous !== undefined && previous.version === snapshot.version && previous !== snapshot) {
        const changed = ALL_TYPE_URLS.some((t) => previous.type(t).digest !== snapshot.type(t).digest);
        if (changed) {
          throw new XdsError(
            'INVALID_SNAPSHOT',
            `version: "${snapshot.version}" was already published for group "${group}" with different content`,
          );
        }
        return previous;
      }
      const stored = rebaseSnapshot(snapshot, previous);
      snapshots.set(group, stored);
      const listeners = watchers.get(group);
      if (listeners !== undefined) {
        for (const l of listeners) {
          try {
            l(stored);
          } catch {
            // A failing watcher (one stream) must not keep the others from their push.
          }
        }
      }
      return stored;
    },
    getSnapshot(group) {
      return snapshots.get(group);
    },
    clearSnapshot(group) {
      snapshots.delete(group);
    },
    groups() {
      return [...snapshots.keys()];
    },
    watch(group, listener) {
      let set = watchers.get(group);
      if (set === undefined) watchers.set(group, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0 && watchers.get(group) === set) watchers.delete(group);
      };
    },
  };
}
