/**
 * Node metadata → NodeGroup, the contract between bootstraps (envoy/*.yaml, grpc-js-xds bootstrap
 * files) and translation. Node metadata keys:
 * - `role`: `gateway` | `sidecar` | `proxyless` (required);
 * - `meshward.workload`: `<namespace>/<name>` of the workload (recommended; else labels decide);
 * - `labels`: an object of string values.
 * Pure; `nodeGroupKey` gives the snapshot cache a stable key, equal for nodes that must get equal
 * resources.
 */
import type { JsonObject } from '@bufbuild/protobuf';
import { WORKLOAD_ROLES, type WorkloadRole } from '../model/workload.js';
import type { NodeGroup } from './translate-all.js';

export const NODE_METADATA_ROLE = 'role';
export const NODE_METADATA_WORKLOAD = 'meshward.workload';
export const NODE_METADATA_LABELS = 'labels';

/** The node's group, or the reason (naming the metadata key) when its metadata cannot say. */
export function nodeGroupOf(metadata: JsonObject | undefined): NodeGroup | string {
  const md = metadata ?? {};
  const role = md[NODE_METADATA_ROLE];
  if (typeof role !== 'string' || !(WORKLOAD_ROLES as readonly string[]).includes(role)) {
    return `node metadata "${NODE_METADATA_ROLE}" must be one of ${WORKLOAD_ROLES.join(', ')}`;
  }
  const workload = md[NODE_METADATA_WORKLOAD];
  if (workload !== undefined && (typeof workload !== 'string' || !/^[a-z0-9-]+\/[a-z0-9-]+$/.test(workload))) {
    return `node metadata "${NODE_METADATA_WORKLOAD}" must be "<namespace>/<name>"`;
  }
  const rawLabels = md[NODE_METADATA_LABELS];
  const labels: Record<string, string> = {};
  if (rawLabels !== undefined) {
    if (typeof rawLabels !== 'object' || rawLabels === null || Array.isArray(rawLabels)) return `node metadata "${NODE_METADATA_LABELS}" must be an object`;
    for (const [k, v] of Object.entries(rawLabels)) {
      if (typeof v !== 'string') return `node metadata "${NODE_METADATA_LABELS}.${k}" must be a string`;
      labels[k] = v;
    }
  }
  return { role: role as WorkloadRole, ...(typeof workload === 'string' ? { workload } : {}), labels };
}

/** A stable key: `role=gateway,workload=gw/edge` or `role=sidecar,labels=a=1;b=2` (labels sorted). */
export function nodeGroupKey(g: NodeGroup): string {
  if (g.workload !== undefined) return `role=${g.role},workload=${g.workload}`;
  const labels = Object.entries(g.labels ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(';');
  return `role=${g.role},labels=${labels}`;
}
