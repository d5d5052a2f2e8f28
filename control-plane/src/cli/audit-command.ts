import { createApiClient, type ApiClient } from './api-client.js';
import { CONNECTION_HELP, CONNECTION_OPTIONS, booleanFlag, stringFlag, type CliCommand } from './cli-command.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { resolveConnection } from './connection.js';

interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  kind: string;
  name: string;
  revision?: number;
  fromVersion?: number;
  toVersion?: number;
  reason?: string;
}

/** One line per entry: `<at>  <actor>  <action> <kind>/<name>  v<from>→v<to>  rev <n>  <reason>`. */
export function formatAuditLine(e: AuditEntry): string {
  const versions = e.fromVersion !== undefined || e.toVersion !== undefined ? `  v${e.fromVersion ?? '-'}→v${e.toVersion ?? '-'}` : '';
  const rev = e.revision === undefined ? '' : `  rev ${e.revision}`;
  const reason = e.reason === undefined ? '' : `  "${e.reason}"`;
  return `${e.at}  ${e.actor}  ${e.action} ${e.kind}/${e.name}${versions}${rev}${reason}`;
}

async function page(client: ApiClient, query: Record<string, string>): Promise<{ items: AuditEntry[]; nextCursor?: string }> {
  const res = await client.request('GET', `/v1/audit?${new URLSearchParams(query).toString()}`);
  return res.body as { items: AuditEntry[]; nextCursor?: string };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export const auditCommand: CliCommand = {
  words: ['audit'],
  summary: 'Show the audit log (who changed what, when); --follow to tail it',
  usesApi: true,
  options: {
    ...CONNECTION_OPTIONS,
    follow: { type: 'boolean', short: 'f' },
    tail: { type: 'string' },
    since: { type: 'string' },
    actor: { type: 'string' },
    kind: { type: 'string' },
    name: { type: 'string' },
    interval: { type: 'string' },
    output: { type: 'string', short: 'o' },
  },
  help: `usage: meshward audit [--tail N] [--since <RFC 3339>] [--actor a] [--kind k] [--name n] [-f] [-o json]

Prints the last entries of the audit log, oldest first, one line each:
  <time>  <actor>  <action> <kind>/<name>  v<from>→v<to>  rev <config version>  "<reason>"
With --follow, keeps polling and prints new entries as they are written until Ctrl-C.

Flags:
  --tail <N>         how many recent entries to show first (default 20, max 1000)
  --since <time>     only entries at or after this time (e.g. 2026-01-01T00:00:00Z)
  --actor/--kind/--name  filters
  -f, --follow       keep printing new entries
  --interval <ms>    poll interval with --follow (default 1000)
  -o json            one JSON object per line instead

${CONNECTION_HELP}`,
  async run(positionals, flags, io: CliIo) {
    if (positionals.length > 0) throw CliError.usage(`audit: unexpected argument "${positionals[0]!}"`);
    const tailRaw = stringFlag(flags, 'tail') ?? '20';
    const tail = Number(tailRaw);
    if (!Number.isInteger(tail) || tail < 1 || tail > 1000) throw CliError.usage(`--tail: must be an integer from 1 to 1000, got "${tailRaw}"`);
    const intervalRaw = stringFlag(flags, 'interval') ?? '1000';
    const interval = Number(intervalRaw);
    if (!Number.isInteger(interval) || interval < 50 || interval > 600_000) throw CliError.usage(`--interval: must be an integer from 50 to 600000 (ms), got "${intervalRaw}"`);
    const since = stringFlag(flags, 'since');
    if (since !== undefined && Number.isNaN(Date.parse(since))) throw CliError.usage(`--since: "${since}" is not an RFC 3339 time`);
    const json = stringFlag(flags, 'output') === 'json';
    if (stringFlag(flags, 'output') !== undefined && !json) throw CliError.usage('--output: only json is supported for audit');
    const filters: Record<string, string> = {};
    for (const k of ['actor', 'kind', 'name'] as const) {
      const v = stringFlag(flags, k);
      if (v !== undefined) filters[k] = v;
    }
    if (since !== undefined) filters['since'] = new Date(since).toISOString();
    const client = createApiClient(resolveConnection(flags, io), io.fetch);
    const print = (e: AuditEntry) => io.stdout.write((json ? JSON.stringify(e) : formatAuditLine(e)) + '\n');

    const first = await page(client, { ...filters, order: 'desc', limit: String(tail) });
    const shown = [...first.items].reverse();
    shown.forEach(print);
    if (!booleanFlag(flags, 'follow')) return 0;

    // Follow: ask for entries at or after the newest time seen (ascending) and skip ids already printed.
    let lastId = shown.at(-1)?.id ?? 0;
    let lastAt = shown.at(-1)?.at ?? filters['since'] ?? new Date(0).toISOString();
    const aborted = (): boolean => io.signal?.aborted === true;
    while (!aborted()) {
      await sleep(interval, io.signal);
      if (aborted()) break;
      let cursor: string | undefined;
      do {
        const p = await page(client, { ...filters, since: lastAt, order: 'asc', limit: '1000', ...(cursor === undefined ? {} : { cursor }) });
        for (const e of p.items) {
          if (e.id <= lastId) continue;
          print(e);
          lastId = e.id;
          lastAt = e.at;
        }
        cursor = p.nextCursor;
      } while (cursor !== undefined);
    }
    return 0;
  },
};
