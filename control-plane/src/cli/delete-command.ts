import { createApiClient } from './api-client.js';
import { CONNECTION_HELP, CONNECTION_OPTIONS, booleanFlag, stringFlag, type CliCommand } from './cli-command.js';
import { CliError } from './cli-error.js';
import { resolveConnection } from './connection.js';
import { qualifiedName } from './get-command.js';
import { readDocuments, type ResourceDocument } from './resource-documents.js';
import { kindOf, resourcePath } from './resource-kinds.js';

export const deleteCommand: CliCommand = {
  words: ['delete'],
  summary: 'Delete a resource (or every resource of a file)',
  usesApi: true,
  options: {
    ...CONNECTION_OPTIONS,
    namespace: { type: 'string', short: 'n' },
    filename: { type: 'string', short: 'f', multiple: true },
    'ignore-not-found': { type: 'boolean' },
  },
  help: `usage: meshward delete <kind> <name> [-n namespace] [--ignore-not-found]
       meshward delete -f <file> [--ignore-not-found]

Deletes one resource, or every resource named in a file (in reverse dependency order). The
control plane refuses (409) to delete a resource others still reference; the message names them.
The mesh settings cannot be deleted.

Flags:
  -n, --namespace <ns>   namespace of a workload
  -f, --filename <file>  delete the resources of this file (repeatable)
  --ignore-not-found     exit 0 when a resource does not exist

${CONNECTION_HELP}

Exit status: 0 deleted; 3 not found; 1 refused by the control plane.

Examples:
  meshward delete models chat
  meshward delete workloads ai/edge
  meshward delete -f meshward.yaml`,
  async run(positionals, flags, io) {
    const files = (flags['filename'] as string[] | undefined) ?? [];
    let targets: { path: string; label: string }[];
    if (files.length > 0) {
      if (positionals.length > 0) throw CliError.usage('delete: give either <kind> <name> or -f <file>, not both');
      const docs: ResourceDocument[] = readDocuments(files, io.cwd).filter((d) => !d.kind.singleton);
      targets = docs
        .sort((a, b) => b.kind.applyOrder - a.kind.applyOrder)
        .map((d) => ({ path: resourcePath(d.kind, d.key), label: `${d.kind.plural}/${d.key ?? ''}` }));
    } else {
      if (positionals.length !== 2) throw CliError.usage('delete: expected <kind> <name> or -f <file> (see meshward delete --help)');
      const kind = kindOf(positionals[0]!);
      if (kind.singleton) throw CliError.usage(`delete: ${kind.plural} cannot be deleted (update it with apply)`);
      const name = qualifiedName(kind, positionals[1], stringFlag(flags, 'namespace'))!;
      targets = [{ path: resourcePath(kind, name), label: `${kind.plural}/${name}` }];
    }
    const ignore = booleanFlag(flags, 'ignore-not-found');
    const client = createApiClient(resolveConnection(flags, io), io.fetch);
    for (const t of targets) {
      const res = await client.request('DELETE', t.path, { accept: ignore ? [404] : [] });
      if (res.status === 404) {
        io.stdout.write(`${t.label} not found (ignored)\n`);
        continue;
      }
      const cv = res.headers.get('meshward-config-version');
      io.stdout.write(`${t.label} deleted${cv === null ? '' : ` (config version ${cv})`}\n`);
    }
    return 0;
  },
};
