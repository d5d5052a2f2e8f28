import { stringify } from 'yaml';
import { createApiClient, type ApiClient } from './api-client.js';
import { CONNECTION_HELP, CONNECTION_OPTIONS, booleanFlag, type CliCommand } from './cli-command.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { resolveConnection } from './connection.js';
import { lineDiff } from './line-diff.js';
import { canonical, readDocuments, specOf, type ResourceDocument } from './resource-documents.js';
import { resourcePath } from './resource-kinds.js';

/** `unchecked`: dry run only, see applyOne. */
export type ApplyOutcome = 'created' | 'configured' | 'unchanged' | 'unchecked';

export interface ApplyResult {
  readonly resource: string;
  readonly outcome: ApplyOutcome;
  /** The config version the write produced (none for unchanged or dry runs). */
  readonly configVersion?: string;
}

const yamlOf = (v: unknown): string => stringify(v, { lineWidth: 0, sortMapEntries: true });

function label(doc: ResourceDocument): string {
  return doc.key === undefined ? doc.kind.plural : `${doc.kind.plural}/${doc.key}`;
}

/**
 * Applies one document: create when missing, replace (If-Match with the ETag just read) when it
 * differs, nothing when equal. With `dryRun` the server checks the write (`?dryRun=true`) and the
 * diff is printed; nothing is written.
 */
async function applyOne(client: ApiClient, doc: ResourceDocument, dryRun: boolean, io: CliIo, pendingCreates: number): Promise<ApplyResult> {
  try {
    return await applyOneChecked(client, doc, dryRun, io);
  } catch (err) {
    // A dry run writes nothing, so the server checks each document against the current state
    // alone: one that references a resource this same apply would create is refused although the
    // real apply would succeed. Report it and go on; a real apply checks everything in order.
    if (dryRun && pendingCreates > 0 && err instanceof CliError && err.code === 'API' && /^4\d\d /.test(err.message)) {
      io.stdout.write(`${label(doc)}: not checked by the server in a dry run (it may reference resources this apply would create):\n  ${err.message.split('\n').join('\n  ')}\n`);
      return { resource: label(doc), outcome: 'unchecked' };
    }
    throw err;
  }
}

async function applyOneChecked(client: ApiClient, doc: ResourceDocument, dryRun: boolean, io: CliIo): Promise<ApplyResult> {
  const path = resourcePath(doc.kind, doc.key);
  const resource = label(doc);
  const current = await client.request('GET', path, { accept: [404] });
  const q = dryRun ? '?dryRun=true' : '';
  if (current.status === 404) {
    if (doc.kind.singleton) throw new CliError('API', `${resource}: the control plane has no ${doc.kind.plural} resource to update`);
    const res = await client.request('POST', `/v1/${doc.kind.plural}${q}`, { body: doc.spec });
    if (dryRun) io.stdout.write(`${resource} would be created:\n${lineDiff('', yamlOf(doc.spec))}`);
    const cv = res.headers.get('meshward-config-version');
    return { resource, outcome: 'created', ...(dryRun || cv === null ? {} : { configVersion: cv }) };
  }
  // The singleton's name is fixed by the server: neither compared nor sent.
  const strip = (o: Record<string, unknown>): Record<string, unknown> => {
    if (!doc.kind.singleton) return o;
    const { name: _name, ...rest } = o;
    return rest;
  };
  const beforeCmp = strip(specOf(current.body as Record<string, unknown>));
  const desired = strip(doc.spec);
  if (canonical(beforeCmp) === canonical(desired)) return { resource, outcome: 'unchanged' };
  const etag = current.headers.get('etag');
  if (etag === null) throw new CliError('API', `${resource}: the server sent no ETag; cannot update safely`);
  let res;
  try {
    res = await client.request('PUT', path + q, { body: desired, headers: { 'if-match': etag } });
  } catch (err) {
    if (err instanceof CliError && /^412/.test(err.message)) {
      throw new CliError('API', `${resource} changed on the server while applying (412); run apply again to merge the latest version\n${err.message}`);
    }
    throw err;
  }
  if (dryRun) {
    io.stdout.write(`${resource} would be configured:\n${lineDiff(yamlOf(beforeCmp), yamlOf(desired))}`);
    return { resource, outcome: 'configured' };
  }
  const oldVersion = (current.body as { metadata?: { resourceVersion?: unknown } }).metadata?.resourceVersion;
  const newVersion = (res.body as { metadata?: { resourceVersion?: unknown } }).metadata?.resourceVersion;
  if (oldVersion !== undefined && oldVersion === newVersion) return { resource, outcome: 'unchanged' };
  const cv = res.headers.get('meshward-config-version');
  return { resource, outcome: 'configured', ...(cv === null ? {} : { configVersion: cv }) };
}

export const applyCommand: CliCommand = {
  words: ['apply'],
  summary: 'Create or update resources from YAML/JSON files (idempotent)',
  usesApi: true,
  options: {
    ...CONNECTION_OPTIONS,
    filename: { type: 'string', short: 'f', multiple: true },
    'dry-run': { type: 'boolean' },
  },
  help: `usage: meshward apply -f <file.yaml|json> [-f more...] [--dry-run]

Creates missing resources, replaces changed ones (optimistic concurrency: If-Match with the
version just read) and leaves equal ones alone (no write, no new config version). Files hold one
or more documents (YAML separated by ---, a JSON object, a JSON array, or {"items": [...]});
each has a kind (Mesh, Workload, Model, FilterModule, DlpPolicy, AuthorizationPolicy, RateLimit,
Rollout) and its fields. Documents are applied in dependency order (filter modules before DLP
policies, models before rollouts). Output of \`meshward get -o yaml\` can be applied as is.

Flags:
  -f, --filename <file>  file to apply (repeatable)
  --dry-run              show what would change (a diff per resource), validated by the server
                         (?dryRun=true), and write nothing

${CONNECTION_HELP}

Examples:
  meshward apply -f meshward.yaml --dry-run
  meshward apply -f meshward.yaml`,
  async run(positionals, flags, io) {
    if (positionals.length > 0) throw CliError.usage(`apply: unexpected argument "${positionals[0]!}" (files go after -f)`);
    const files = (flags['filename'] as string[] | undefined) ?? [];
    const docs = readDocuments(files, io.cwd);
    const seen = new Set<string>();
    for (const d of docs) {
      const k = label(d);
      if (seen.has(k)) throw CliError.usage(`${d.source}: ${k} appears twice`);
      seen.add(k);
    }
    const ordered = [...docs].sort((a, b) => a.kind.applyOrder - b.kind.applyOrder);
    const dryRun = booleanFlag(flags, 'dry-run');
    const client = createApiClient(resolveConnection(flags, io), io.fetch);
    let pendingCreates = 0;
    for (const doc of ordered) {
      const r = await applyOne(client, doc, dryRun, io, pendingCreates);
      if (dryRun && r.outcome === 'created') pendingCreates++;
      const suffix = dryRun ? (r.outcome === 'unchanged' || r.outcome === 'unchecked' ? '' : ' (dry run)') : r.configVersion === undefined ? '' : ` (config version ${r.configVersion})`;
      io.stdout.write(`${r.resource} ${r.outcome}${suffix}\n`);
    }
    if (dryRun) io.stdout.write('dry run: nothing was written\n');
    return 0;
  },
};
