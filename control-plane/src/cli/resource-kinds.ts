/**
 * The resource kinds the CLI knows, how users may name them, and where the REST API serves them.
 * `apply` orders documents by `applyOrder` so references resolve (a DLP policy after its filter
 * module, a rollout after its model) and `delete` of a whole file goes in reverse.
 */
import { CliError } from './cli-error.js';

export interface ResourceKindInfo {
  /** Path segment under /v1 (`workloads`). */
  readonly plural: string;
  /** The `kind` field of documents and responses (`Workload`). */
  readonly kindName: string;
  /** Addressed `<namespace>/<name>`. */
  readonly namespaced: boolean;
  /** One resource at /v1/<plural> (no name): the mesh settings. */
  readonly singleton: boolean;
  readonly aliases: readonly string[];
  readonly applyOrder: number;
  /** Columns of `get` tables after NAME: header and how to read the value from a resource. */
  readonly columns: readonly { readonly header: string; value(r: Record<string, unknown>): string }[];
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
const meta = (r: Record<string, unknown>, k: string): string => str((r['metadata'] as Record<string, unknown> | undefined)?.[k]);

export const RESOURCE_KINDS: readonly ResourceKindInfo[] = [
  {
    plural: 'mesh',
    kindName: 'Mesh',
    namespaced: false,
    singleton: true,
    aliases: ['mesh'],
    applyOrder: 0,
    columns: [
      { header: 'TRUST DOMAIN', value: (r) => str(r['trustDomain']) },
      { header: 'MTLS', value: (r) => str(r['mtlsMode']) },
    ],
  },
  {
    plural: 'workloads',
    kindName: 'Workload',
    namespaced: true,
    singleton: false,
    aliases: ['workload', 'wl'],
    applyOrder: 1,
    columns: [
      { header: 'ROLE', value: (r) => str(r['role']) },
      { header: 'SPIFFE ID', value: (r) => str((r['status'] as Record<string, unknown> | undefined)?.['spiffeId']) },
      { header: 'MTLS', value: (r) => str((r['status'] as Record<string, unknown> | undefined)?.['mtlsMode']) },
    ],
  },
  {
    plural: 'models',
    kindName: 'Model',
    namespaced: false,
    singleton: false,
    aliases: ['model'],
    applyOrder: 2,
    columns: [
      { header: 'MODEL NAMES', value: (r) => ((r['modelNames'] as string[] | undefined) ?? []).join(',') },
      {
        header: 'VERSIONS (WEIGHT)',
        value: (r) => ((r['versions'] as { name: string; weight?: number }[] | undefined) ?? []).map((v) => `${v.name}(${v.weight ?? 0})`).join(' '),
      },
    ],
  },
  {
    plural: 'filter-modules',
    kindName: 'FilterModule',
    namespaced: false,
    singleton: false,
    aliases: ['filter-module', 'filtermodule', 'fm'],
    applyOrder: 3,
    columns: [{ header: 'SOURCE', value: (r) => str((r['source'] as Record<string, unknown> | undefined)?.['kind']) }],
  },
  {
    plural: 'dlp-policies',
    kindName: 'DlpPolicy',
    namespaced: false,
    singleton: false,
    aliases: ['dlp-policy', 'dlppolicy', 'dlp'],
    applyOrder: 4,
    columns: [
      {
        header: 'SCOPE',
        value: (r) => {
          const s = r['scope'] as { kind?: string; model?: string } | undefined;
          return s?.kind === 'model' ? `model:${s.model ?? ''}` : str(s?.kind);
        },
      },
      { header: 'FAILURE MODE', value: (r) => str(r['failureMode'] ?? 'FAIL_CLOSED') },
    ],
  },
  {
    plural: 'authorization-policies',
    kindName: 'AuthorizationPolicy',
    namespaced: false,
    singleton: false,
    aliases: ['authorization-policy', 'authorizationpolicy', 'authz'],
    applyOrder: 5,
    columns: [
      { header: 'RULES', value: (r) => String(((r['rules'] as unknown[] | undefined) ?? []).length) },
      { header: 'DRY RUN', value: (r) => str(r['dryRun'] ?? false) },
    ],
  },
  {
    plural: 'rate-limits',
    kindName: 'RateLimit',
    namespaced: false,
    singleton: false,
    aliases: ['rate-limit', 'ratelimit', 'rl'],
    applyOrder: 6,
    columns: [{ header: 'MODEL', value: (r) => str(r['model']) }],
  },
  {
    plural: 'rollouts',
    kindName: 'Rollout',
    namespaced: false,
    singleton: false,
    aliases: ['rollout', 'ro'],
    applyOrder: 7,
    columns: [
      { header: 'MODEL', value: (r) => str(r['model']) },
      { header: 'STEPS', value: (r) => String(((r['steps'] as unknown[] | undefined) ?? []).length) },
      { header: 'PHASE', value: (r) => str((r['status'] as Record<string, unknown> | undefined)?.['phase']) },
    ],
  },
  {
    // After the DLP policies: budgets travel in the global policy's config.
    plural: 'budgets',
    kindName: 'Budget',
    namespaced: false,
    singleton: false,
    aliases: ['budget'],
    applyOrder: 8,
    columns: [
      { header: 'TOKENS', value: (r) => str(r['tokens']) },
      { header: 'WINDOW', value: (r) => str(r['window']) },
      { header: 'ON EXCEED', value: (r) => str(r['onExceed'] ?? 'reject') },
    ],
  },
  {
    plural: 'model-access-lists',
    kindName: 'ModelAccessList',
    namespaced: false,
    singleton: false,
    aliases: ['model-access-list', 'modelaccesslist', 'acl'],
    applyOrder: 8,
    columns: [{ header: 'MODELS', value: (r) => ((r['models'] as string[] | undefined) ?? []).join(',') }],
  },
];

export function versionColumn(r: Record<string, unknown>): string {
  return meta(r, 'resourceVersion');
}

/** Finds a kind by plural, alias or kindName, case-insensitively; a usage error lists the known ones. */
export function kindOf(word: string): ResourceKindInfo {
  const w = word.toLowerCase();
  const k = RESOURCE_KINDS.find((x) => x.plural === w || x.kindName.toLowerCase() === w || x.aliases.includes(w));
  if (k === undefined) {
    throw CliError.usage(`unknown kind "${word}" (known: ${RESOURCE_KINDS.map((x) => x.plural).join(', ')})`);
  }
  return k;
}

/** The API path of one resource. `name` is `<namespace>/<name>` for namespaced kinds. */
export function resourcePath(kind: ResourceKindInfo, name: string | undefined): string {
  if (kind.singleton) return `/v1/${kind.plural}`;
  if (name === undefined) return `/v1/${kind.plural}`;
  if (kind.namespaced) {
    const parts = name.split('/');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw CliError.usage(`${kind.plural} are namespaced: name them <namespace>/<name> (or pass -n <namespace>), got "${name}"`);
    }
    return `/v1/${kind.plural}/${encodeURIComponent(parts[0]!)}/${encodeURIComponent(parts[1]!)}`;
  }
  if (name.includes('/')) throw CliError.usage(`${kind.plural} are not namespaced: "${name}" must not contain "/"`);
  return `/v1/${kind.plural}/${encodeURIComponent(name)}`;
}

/** The key of a document: `<namespace>/<name>` for namespaced kinds, else its name. */
export function keyOf(kind: ResourceKindInfo, doc: Record<string, unknown>): string | undefined {
  if (kind.singleton) return undefined;
  const name = doc['name'];
  if (kind.namespaced) return `${String(doc['namespace'])}/${String(name)}`;
  return String(name);
}
