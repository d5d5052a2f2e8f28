/**
 * How the controller groups nodes: one snapshot per group, shared by every node of the group (a
 * workload's replicas). The group key is computed from the node's metadata once per stream and is
 * self-describing, so it can be turned back into the selector translate/ needs ({@link parseGroupKey})
 * and read by operators in the fleet view.
 *
 * Node metadata read (as the bootstraps under envoy/ set it):
 * - `role` (or `meshward.role`): `gateway` | `sidecar` | `proxyless`;
 * - `meshward.workload`: `<namespace>/<name>` of the workload — takes precedence over labels;
 * - `labels`: an object of string labels, matched against the workloads' labels when no workload
 *   is named.
 *
 * Key forms: `role=gateway;workload=gw/edge`, `role=sidecar;labels=app=chat,tier=gold`,
 * `role=*;workload=gw/edge` (role left to the workload). Label keys and values are
 * percent-encoded, sorted by key. A node with neither a workload nor a role gets
 * {@link UNRESOLVED_GROUP}: it is served nothing until its metadata names one.
 */
import type { Node } from '../gen/envoy/config/core/v3/base_pb.js';
import { WORKLOAD_ROLES, type WorkloadRole } from '../model/workload.js';

/** Group of nodes that say nothing usable about themselves. */
export const UNRESOLVED_GROUP = 'unresolved';

/** Node metadata keys the grouping reads. */
export const NODE_METADATA = {
  role: 'role',
  roleAlt: 'meshward.role',
  workload: 'meshward.workload',
  labels: 'labels',
} as const;

/** What a group key says about its nodes. `role` undefined = take the named workload's role. */
export interface GroupSelector {
  readonly role: WorkloadRole | undefined;
  readonly workload?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

const enc = encodeURIComponent;

/** The group key of a node (pure, cheap: runs once per stream). */
export function groupKeyOf(node: Pick<Node, 'metadata'>): string {
  const md = (node.metadata ?? {}) as Readonly<Record<string, unknown>>;
  const rawRole = md[NODE_METADATA.role] ?? md[NODE_METADATA.roleAlt];
  const role = typeof rawRole === 'string' && (WORKLOAD_ROLES as readonly string[]).includes(rawRole) ? rawRole : undefined;
  const workload = md[NODE_METADATA.workload];
  if (typeof workload === 'string' && /^[^/\s;]+\/[^/\s;]+$/.test(workload)) {
    return `role=${role ?? '*'};workload=${workload}`;
  }
  if (role === undefined) return UNRESOLVED_GROUP;
  const labels = md[NODE_METADATA.labels];
  const pairs: string[] = [];
  if (typeof labels === 'object' && labels !== null && !Array.isArray(labels)) {
    for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
      if (typeof v === 'string') pairs.push(`${enc(k)}=${enc(v)}`);
    }
  }
  pairs.sort();
  return `role=${role};labels=${pairs.join(',')}`;
}

/** The selector a key stands for; undefined for {@link UNRESOLVED_GROUP} or a key not made by {@link groupKeyOf}. */
export function parseGroupKey(key: string): GroupSelector | undefined {
  const m = /^role=([a-z*]+);(workload|labels)=(.*)$/.exec(key);
  if (m === null) return undefined;
  const role = m[1] === '*' ? undefined : (WORKLOAD_ROLES as readonly string[]).includes(m[1]!) ? (m[1] as WorkloadRole) : null;
  if (role === null) return undefined;
  if (m[2] === 'workload') return { role, workload: m[3]! };
  if (role === undefined) return undefined;
  const labels: Record<string, string> = {};
  if (m[3] !== '') {
    for (const pair of m[3]!.split(',')) {
      const [k, v] = pair.split('=');
      if (k === undefined || v === undefined) return undefined;
      labels[decodeURIComponent(k)] = decodeURIComponent(v);
    }
  }
  return { role, labels };
}
