/**
 * The store's candidate check for "would this change produce a snapshot we can serve?": every
 * workload of the candidate model is translated and consistency-checked as its node group would
 * be (the same {@link groupSnapshotInput} the publisher uses). A change that makes any workload's
 * snapshot untranslatable or inconsistent is refused before it is committed — the API answers 400
 * naming the workload and the resource at fault — so the previous snapshots keep serving.
 *
 * Problems the current state already has never block unrelated changes (the same rule as the
 * model validator): only failures that the candidate introduces are refused. A candidate whose
 * model does not validate is left to the model validator (it runs first and decides).
 */
import { toMeshModel } from '../store/to-mesh-model.js';
import { StoreError } from '../store/store-error.js';
import type { CandidateValidator, StoreSnapshot } from '../store/store.js';
import { validateMeshModel } from '../model/validate-mesh-model.js';
import type { MeshModel } from '../model/mesh-model.js';
import { workloadKey } from '../model/workload.js';
import { ControllerError } from './controller-error.js';
import { groupSnapshot, groupSnapshotInput } from './group-snapshot.js';
import type { BudgetLeaseEndpoint } from '../translate/budget-config.js';

export interface CandidateCheckOptions {
  readonly defaultTrustDomain: string;
  /** The committed state (to tell new failures from old ones). */
  readonly current: () => StoreSnapshot;
  readonly now: () => Date;
  readonly proxylessRbac?: boolean;
  /** The group build to try. Defaults to {@link groupSnapshotInput} (a seam for tests). */
  readonly groupSnapshot?: typeof groupSnapshotInput;
  /** Where proxies ask for budget leases, read at each check (see ControllerOptions.budgetLeases). */
  readonly budgetLeases?: () => BudgetLeaseEndpoint | undefined;
}

/** Workload key → failure message, for every workload whose snapshot cannot be built. Pure. */
export function snapshotFailures(
  model: MeshModel,
  revision: number,
  now: Date,
  proxylessRbac = true,
  build: typeof groupSnapshotInput = groupSnapshotInput,
  budgetLeases?: BudgetLeaseEndpoint,
): Map<string, ControllerError> {
  const failures = new Map<string, ControllerError>();
  for (const w of model.workloads) {
    const key = workloadKey(w);
    const group = `role=${w.role};workload=${key}`;
    try {
      groupSnapshot(build(model, group, { role: w.role, workload: key }, { revision, now, proxylessRbac, ...(budgetLeases !== undefined ? { budgetLeases } : {}) }), group);
    } catch (err) {
      failures.set(key, ControllerError.is(err) ? err : new ControllerError('UNTRANSLATABLE', (err as Error).message));
    }
  }
  return failures;
}

export function createCandidateCheck(options: CandidateCheckOptions): CandidateValidator {
  let cached: { revision: number; failures: Map<string, string> } | undefined;
  const currentFailures = (now: Date): Map<string, string> => {
    const snap = options.current();
    if (cached?.revision !== snap.revision) {
      const model = toMeshModel(snap, options.defaultTrustDomain);
      const failures =
        validateMeshModel(model).length > 0
          ? new Map<string, string>()
          : new Map([...snapshotFailures(model, snap.revision, now, options.proxylessRbac, options.groupSnapshot, options.budgetLeases?.())].map(([k, e]) => [k, stripGroup(e.message)]));
      cached = { revision: snap.revision, failures };
    }
    return cached.failures;
  };
  return (candidate) => {
    const model = toMeshModel(candidate, options.defaultTrustDomain);
    if (validateMeshModel(model).length > 0) return;
    const now = options.now();
    const failures = snapshotFailures(model, candidate.revision, now, options.proxylessRbac, options.groupSnapshot, options.budgetLeases?.());
    if (failures.size === 0) return;
    const before = currentFailures(now);
    const fresh = [...failures].filter(([key, e]) => before.get(key) !== stripGroup(e.message));
    if (fresh.length === 0) return;
    const [key, first] = fresh[0]!;
    const more = fresh.length > 1 ? ` (and ${fresh.length - 1} more workload${fresh.length > 2 ? 's' : ''})` : '';
    throw new StoreError('INVALID', `the change would produce an xDS snapshot that cannot be served for workload "${key}": ${stripGroup(first.message)}${more}`, {
      issues: fresh.map(([k, e]) => ({
        field: '',
        reason: `xDS snapshot of workload "${k}" ${e.code === 'INCONSISTENT' ? 'would be inconsistent' : 'cannot be built'}: ${stripGroup(e.message)}`,
        resource: { kind: 'workloads', name: k },
      })),
    });
  };
}

/** Messages start with `group "<key>": `; the workload key says it better in API errors. */
function stripGroup(message: string): string {
  return message.replace(/^group "[^"]*": /, '');
}
