import { createApiClient, type ApiClient } from './api-client.js';
import { CONNECTION_HELP, CONNECTION_OPTIONS, stringFlag, type CliCommand } from './cli-command.js';
import { resolveConnection } from './connection.js';
import { outputFormatOf, render } from './output-format.js';
import { kindOf, resourcePath, versionColumn, type ResourceKindInfo } from './resource-kinds.js';
import { formatTable } from './table.js';
import { CliError } from './cli-error.js';

/** Every item of a paginated list (follows `nextCursor`). */
export async function listAll(client: ApiClient, path: string, query: Record<string, string> = {}): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const q = new URLSearchParams({ ...query, limit: '1000', ...(cursor === undefined ? {} : { cursor }) });
    const res = await client.request('GET', `${path}?${q.toString()}`);
    const body = res.body as { items?: Record<string, unknown>[]; nextCursor?: string };
    items.push(...(body.items ?? []));
    cursor = body.nextCursor;
    if (cursor === undefined) return items;
  }
  throw new CliError('API', `${path}: the listing did not end after 10000 pages`);
}

/** `<namespace>/<name>` from `name` or `-n ns name`. */
export function qualifiedName(kind: ResourceKindInfo, name: string | undefined, namespace: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  if (kind.namespaced && !name.includes('/')) {
    if (namespace === undefined) throw CliError.usage(`${kind.plural} are namespaced: name them <namespace>/<name> or pass -n <namespace>`);
    return `${namespace}/${name}`;
  }
  return name;
}

function tableOf(kind: ResourceKindInfo, items: readonly Record<string, unknown>[]): string {
  const header = [...(kind.namespaced ? ['NAMESPACE'] : []), 'NAME', ...kind.columns.map((c) => c.header), 'VERSION'];
  const rows = items.map((r) => [
    ...(kind.namespaced ? [String(r['namespace'] ?? '')] : []),
    String(r['name'] ?? ''),
    ...kind.columns.map((c) => c.value(r)),
    versionColumn(r),
  ]);
  return formatTable(header, rows);
}

export const getCommand: CliCommand = {
  words: ['get'],
  summary: 'List resources of a kind, or show one',
  usesApi: true,
  options: {
    ...CONNECTION_OPTIONS,
    namespace: { type: 'string', short: 'n' },
    output: { type: 'string', short: 'o' },
  },
  help: `usage: meshward get <kind> [name] [-n namespace] [-o table|yaml|json]

Lists resources of a kind (a table by default) or shows one (YAML by default). A shown resource
can be edited and passed back to \`meshward apply -f\`.

Kinds: mesh, workloads (wl), models, filter-modules (fm), dlp-policies (dlp),
       authorization-policies (authz), rate-limits (rl), rollouts (ro)

Flags:
  -n, --namespace <ns>   namespace of workloads (lists: only that namespace)
  -o, --output <format>  table, yaml or json

${CONNECTION_HELP}

Examples:
  meshward get models
  meshward get workloads -n ai
  meshward get dlp-policies global -o json`,
  async run(positionals, flags, io) {
    if (positionals.length < 1 || positionals.length > 2) throw CliError.usage('get: expected <kind> [name] (see meshward get --help)');
    const kind = kindOf(positionals[0]!);
    const namespace = stringFlag(flags, 'namespace');
    const name = qualifiedName(kind, positionals[1], namespace);
    const client = createApiClient(resolveConnection(flags, io), io.fetch);
    if (name !== undefined || kind.singleton) {
      const res = await client.request('GET', resourcePath(kind, name));
      const format = outputFormatOf(stringFlag(flags, 'output'), 'yaml');
      io.stdout.write(format === 'table' ? tableOf(kind, [res.body as Record<string, unknown>]) : render(res.body, format));
      return 0;
    }
    const items = await listAll(client, `/v1/${kind.plural}`, kind.namespaced && namespace !== undefined ? { namespace } : {});
    const format = outputFormatOf(stringFlag(flags, 'output'), 'table');
    if (format === 'table') {
      io.stdout.write(items.length === 0 ? `no ${kind.plural}\n` : tableOf(kind, items));
    } else {
      io.stdout.write(render({ items }, format));
    }
    return 0;
  },
};
