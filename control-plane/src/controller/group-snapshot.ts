/**
 * Pure: one node group's snapshot input from a validated mesh model — translate/ for the group's
 * workload, then translate/'s deep consistency check. Everything the controller publishes and
 * everything its candidate check tries goes through here, so "accepted" and "publishable" agree.
 */
import type { Message } from '@bufbuild/protobuf';
import type { MeshModel } from '../model/mesh-model.js';
import { workloadKey } from '../model/workload.js';
import { checkConsistency } from '../translate/check-consistency.js';
import { TranslateError } from '../translate/translate-error.js';
import { translateAll } from '../translate/translate-all.js';
import type { BudgetLeaseEndpoint } from '../translate/budget-config.js';
import { XdsError } from '../xds/errors.js';
import { createSnapshot, type Snapshot, type SnapshotInput } from '../xds/snapshot.js';
import { ControllerError } from './controller-error.js';
import type { GroupSelector } from './node-group-key.js';
import { snapshotVersion } from './snapshot-version.js';

export interface GroupSnapshotOptions {
  readonly revision: number;
  readonly now: Date;
  /** See TranslateOptions.proxylessRbac. Defaults to true. */
  readonly proxylessRbac?: boolean;
  /** See TranslateOptions.budgetLeases. Absent: each proxy enforces budgets alone. */
  readonly budgetLeases?: BudgetLeaseEndpoint;
}

/**
 * The snapshot input of `group` (named `groupKey` in errors). The model must already be valid
 * (validateMeshModel empty). @throws ControllerError NO_WORKLOAD | UNTRANSLATABLE | INCONSISTENT
 */
export function groupSnapshotInput(model: MeshModel, groupKey: string, group: GroupSelector, options: GroupSnapshotOptions): SnapshotInput {
  let role = group.role;
  if (role === undefined) {
    const w = model.workloads.find((x) => workloadKey(x) === group.workload);
    if (w === undefined) {
      throw new ControllerError('NO_WORKLOAD', `group "${groupKey}": workload "${group.workload}" does not exist`, { group: groupKey, resource: `workload "${group.workload}"` });
    }
    role = w.role;
  }
  let translated;
  try {
    translated = translateAll(
      model,
      { role, ...(group.workload !== undefined ? { workload: group.workload } : {}), ...(group.labels !== undefined ? { labels: group.labels } : {}) },
      {
        now: options.now,
        validated: true,
        proxylessRbac: options.proxylessRbac ?? true,
        ...(options.budgetLeases !== undefined ? { budgetLeases: options.budgetLeases } : {}),
      },
    );
  } catch (err) {
    if (err instanceof TranslateError) {
      const code = err.code === 'NO_WORKLOAD' || err.code === 'ROLE_MISMATCH' ? 'NO_WORKLOAD' : 'UNTRANSLATABLE';
      throw new ControllerError(code, `group "${groupKey}": ${err.message}`, { group: groupKey, resource: err.resource, cause: err });
    }
    throw new ControllerError('UNTRANSLATABLE', `group "${groupKey}": translation failed: ${(err as Error).message}`, { group: groupKey, cause: err });
  }
  const problems = checkConsistency(translated);
  if (problems.length > 0) {
    const p = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    throw new ControllerError('INCONSISTENT', `group "${groupKey}": ${p.type} "${p.name}" ${p.field}: ${p.reason}${more}`, {
      group: groupKey,
      resource: `${p.type} "${p.name}"`,
    });
  }
  const resources: Message[] = [
    ...translated.listeners,
    ...translated.routes,
    ...translated.clusters,
    ...translated.endpoints,
    ...translated.extensionConfigs,
  ];
  return { version: snapshotVersion(options.revision, model, options.now), resources };
}

/**
 * Encodes and checks a group's snapshot (the xDS cache's own consistency check on top of
 * translate/'s), so a group that fails here fails alone instead of refusing every group's publish.
 * @throws ControllerError INCONSISTENT (or UNTRANSLATABLE when a resource cannot be encoded)
 */
export function groupSnapshot(input: SnapshotInput, groupKey: string): Snapshot {
  try {
    return createSnapshot(input);
  } catch (err) {
    const e = XdsError.from(err, 'INVALID_SNAPSHOT');
    throw new ControllerError(e.code === 'INCONSISTENT_SNAPSHOT' ? 'INCONSISTENT' : 'UNTRANSLATABLE', `group "${groupKey}": ${e.message}`, {
      group: groupKey,
      ...(e.resourceName !== undefined ? { resource: e.resourceName } : {}),
      cause: err,
    });
  }
}
