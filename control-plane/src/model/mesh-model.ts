/**
 * The control plane's whole domain model: what operators declare, before translation to Envoy
 * resources. Immutable plain data (no protobuf), JSON-serialisable; the store owns and versions it,
 * translate/ reads it, and {@link validateMeshModel} (validate-mesh-model.ts) decides whether it is
 * acceptable as a whole.
 */
import type { AuthorizationPolicy } from './authorization-policy.js';
import type { Budget, ModelAccessList } from './budget.js';
import type { DlpPolicy } from './dlp-policy.js';
import type { FilterModule } from './filter-module.js';
import type { MeshSettings } from './mesh-settings.js';
import type { ModelService } from './model-service.js';
import type { RateLimit } from './rate-limit.js';
import type { Workload } from './workload.js';

export interface MeshModel {
  readonly mesh: MeshSettings;
  readonly workloads: readonly Workload[];
  readonly models: readonly ModelService[];
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
  readonly rateLimits: readonly RateLimit[];
  readonly dlpPolicies: readonly DlpPolicy[];
  readonly filterModules: readonly FilterModule[];
  /** Token budgets (model/budget.ts). Absent = none. */
  readonly budgets?: readonly Budget[];
  /** Model access lists (model/budget.ts). Absent = none. */
  readonly modelAccessLists?: readonly ModelAccessList[];
}

/** The kinds of resources in a {@link MeshModel}, as named in validation issues and the REST API. */
export type ResourceKind =
  | 'mesh'
  | 'workload'
  | 'model'
  | 'authorizationPolicy'
  | 'rateLimit'
  | 'dlpPolicy'
  | 'filterModule'
  | 'budget'
  | 'modelAccessList';

/** An empty model in the given trust domain. */
export function createMeshModel(trustDomain: string): MeshModel {
  return {
    mesh: { trustDomain },
    workloads: [],
    models: [],
    authorizationPolicies: [],
    rateLimits: [],
    dlpPolicies: [],
    filterModules: [],
  };
}
