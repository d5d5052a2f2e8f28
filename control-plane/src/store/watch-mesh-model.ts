import type { MeshModel } from '../model/index.js';
import type { ChangeEvent, Store } from './store.js';
import { toMeshModel } from './to-mesh-model.js';

/** One state of the declarative config, as the controller translates it. */
export interface MeshModelUpdate {
  /** The store revision: use it as (the base of) the xDS version_info so restarts keep versions. */
  readonly revision: number;
  readonly model: MeshModel;
  /** The commit that produced it; undefined for the initial state delivered on subscribe. */
  readonly event: ChangeEvent | undefined;
}

/**
 * The controller's feed: calls `listener` once right away with the current state (so a restarted
 * control plane republishes the same revision it served before), then after every committed change
 * (already durable). Debouncing is the publisher's job. Returns the unsubscribe function.
 *
 * ```ts
 * const stop = watchMeshModel(store, trustDomain, (u) => publisher.notify(u));
 * ```
 */
export function watchMeshModel(store: Store, defaultTrustDomain: string, listener: (update: MeshModelUpdate) => void): () => void {
  const initial = store.snapshot();
  listener({ revision: initial.revision, model: toMeshModel(initial, defaultTrustDomain), event: undefined });
  return store.onChange((event) => {
    listener({ revision: event.revision, model: toMeshModel(event.snapshot, defaultTrustDomain), event });
  });
}
