/**
 * Resource kinds the store holds, named as the REST API names them in paths (`/v1/<kind>`).
 * `mesh` holds one resource (named `mesh`): the mesh-wide settings. Workloads are stored under
 * `<namespace>/<name>`; every other kind under its name.
 */
export const RESOURCE_KINDS = [
  'mesh',
  'workloads',
  'models',
  'authorization-policies',
  'rate-limits',
  'dlp-policies',
  'filter-modules',
  'rollouts',
  'budgets',
  'model-access-lists',
] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

export function isResourceKind(value: string): value is ResourceKind {
  return (RESOURCE_KINDS as readonly string[]).includes(value);
}
