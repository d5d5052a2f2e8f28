import { createMeshModel, type MeshModel, type MeshSettings, type ResourceKind as ModelKind } from '../model/index.js';
import type { ResourceKind } from './resource-kind.js';
import type { StoreSnapshot } from './store.js';

/** The singleton name of the `mesh` resource. */
export const MESH_NAME = 'mesh';

/** Store kind → the model's kind (as ValidationIssue names it). Rollouts are not part of the model. */
export const MODEL_KIND: Readonly<Record<ResourceKind, ModelKind | undefined>> = {
  mesh: 'mesh',
  workloads: 'workload',
  models: 'model',
  'authorization-policies': 'authorizationPolicy',
  'rate-limits': 'rateLimit',
  'dlp-policies': 'dlpPolicy',
  'filter-modules': 'filterModule',
  rollouts: undefined,
  budgets: 'budget',
  'model-access-lists': 'modelAccessList',
};

/**
 * The mesh model a store snapshot describes: what the controller translates and publishes, with
 * `snapshot.revision` as the version. The store keeps each resource as the domain object itself
 * (server-owned extras such as a rollout's progress are not part of the model).
 * `defaultTrustDomain` applies until a `mesh` resource is stored.
 */
export function toMeshModel(snapshot: StoreSnapshot, defaultTrustDomain: string): MeshModel {
  const mesh = snapshot.get('mesh', MESH_NAME)?.spec as MeshSettings | undefined;
  const specs = <T>(kind: ResourceKind): T[] => snapshot.resources[kind].map((r) => r.spec as T);
  return {
    ...createMeshModel(defaultTrustDomain),
    mesh: mesh ?? { trustDomain: defaultTrustDomain },
    workloads: specs('workloads'),
    models: specs('models'),
    authorizationPolicies: specs('authorization-policies'),
    rateLimits: specs('rate-limits'),
    dlpPolicies: specs('dlp-policies'),
    filterModules: specs('filter-modules'),
    budgets: specs('budgets'),
    modelAccessLists: specs('model-access-lists'),
  };
}
