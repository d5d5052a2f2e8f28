/**
 * An immutable, interned set of subscribed resource names. Streams that subscribe the same names
 * (every Envoy of a group asks for the same clusters and routes) share one object, so 10k streams
 * do not hold 10k copies of the same 40 names, and "same subscription?" is an identity check.
 */
export interface SubscribedNames {
  /** Sorted, de-duplicated names joined by NUL: the cache key of the set. */
  readonly key: string;
  readonly list: readonly string[];
  readonly set: ReadonlySet<string>;
}

/** Interned sets kept for sharing; beyond this many distinct sets the pool restarts (sharing only). */
const MAX_POOL = 10_000;
const pool = new Map<string, SubscribedNames>();

export const NO_NAMES: SubscribedNames = internNames([]);

/** The shared SubscribedNames for `names` (order and duplicates do not matter). */
export function internNames(names: readonly string[]): SubscribedNames {
  const list = names.length <= 1 ? [...names] : [...new Set(names)].sort();
  const key = list.join('\u0000');
  let s = pool.get(key);
  if (s === undefined) {
    if (pool.size >= MAX_POOL) pool.clear();
    s = Object.freeze({ key, list: Object.freeze(list), set: new Set(list) });
    pool.set(key, s);
  }
  return s;
}

/** True when `names` (as sent by a client) denote exactly `current`, without allocating. */
export function sameNames(current: SubscribedNames, names: readonly string[]): boolean {
  if (names.length !== current.list.length) {
    // Duplicates in the request make lengths differ although the sets may be equal: fall back.
    if (names.length < current.list.length) return false;
    return internNames(names) === current;
  }
  for (const n of names) if (!current.set.has(n)) return false;
  return true;
}
