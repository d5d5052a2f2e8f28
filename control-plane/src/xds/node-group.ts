import type { Node } from '../gen/envoy/config/core/v3/base_pb.js';

/**
 * Maps a node to the snapshot group it is served from. Every node of a group receives the same
 * snapshot, so a change rebuilds one snapshot per group, not per node. Must be pure and cheap: it
 * runs once per stream, on the stream's first request.
 */
export type GroupOf = (node: Node) => string;

/** The group used for nodes that carry none of the configured metadata keys and no cluster. */
export const DEFAULT_GROUP = 'default';

/**
 * A {@link GroupOf} keyed by node metadata: the values of `keys` (strings, numbers or booleans at
 * the top level of `node.metadata`) joined as `key=value,key=value` in the given order. A node with
 * none of the keys falls back to its `cluster` (Envoy's --service-cluster), then to
 * {@link DEFAULT_GROUP}. Defaults to `['role']`.
 */
export function groupByMetadata(keys: readonly string[] = ['role']): GroupOf {
  return (node) => {
    const md = node.metadata ?? {};
    const parts: string[] = [];
    for (const key of keys) {
      const v = md[key];
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') parts.push(`${key}=${String(v)}`);
    }
    if (parts.length > 0) return parts.join(',');
    return node.cluster !== '' ? `cluster=${node.cluster}` : DEFAULT_GROUP;
  };
}
