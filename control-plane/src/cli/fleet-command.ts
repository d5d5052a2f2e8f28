import { createApiClient } from './api-client.js';
import { CONNECTION_HELP, CONNECTION_OPTIONS, stringFlag, type CliCommand } from './cli-command.js';
import { CliError } from './cli-error.js';
import { resolveConnection } from './connection.js';
import { outputFormatOf, render } from './output-format.js';
import { formatTable } from './table.js';

interface FleetNode {
  nodeId: string;
  group: string;
  identity?: { spiffeId?: string; method?: string } | unknown;
  protocol: string;
  connectedSince: string;
  ackedConfigVersion?: number;
  inSync: boolean;
  types: Record<string, { lastNack?: { message: string; version: string } }>;
}

/** Seconds/minutes/hours since `iso`, for the AGE column. */
export function age(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(s)) return '?';
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

export const fleetCommand: CliCommand = {
  words: ['fleet'],
  summary: 'Connected Envoys: identity, ACKed config version, in sync, last NACK',
  usesApi: true,
  options: { ...CONNECTION_OPTIONS, output: { type: 'string', short: 'o' } },
  help: `usage: meshward fleet [-o table|yaml|json]

Shows every Envoy connected over ADS: its node id, node group, the identity its stream proved,
the lowest config version it ACKed across config types, whether it is in sync with the current
config version, and the last NACK (type and Envoy's message) if any.

Flags:
  -o, --output <format>  table (default), yaml or json

${CONNECTION_HELP}`,
  async run(positionals, flags, io) {
    if (positionals.length > 0) throw CliError.usage(`fleet: unexpected argument "${positionals[0]!}"`);
    const client = createApiClient(resolveConnection(flags, io), io.fetch);
    const nodes: FleetNode[] = [];
    let configVersion = 0;
    let cursor: string | undefined;
    do {
      const q = new URLSearchParams({ limit: '1000', ...(cursor === undefined ? {} : { cursor }) });
      const res = await client.request('GET', `/v1/fleet?${q.toString()}`);
      const body = res.body as { configVersion: number; items: FleetNode[]; nextCursor?: string };
      configVersion = body.configVersion;
      nodes.push(...body.items);
      cursor = body.nextCursor;
    } while (cursor !== undefined);
    const format = outputFormatOf(stringFlag(flags, 'output'), 'table');
    if (format !== 'table') {
      io.stdout.write(render({ configVersion, items: nodes }, format));
      return 0;
    }
    const inSync = nodes.filter((n) => n.inSync).length;
    io.stdout.write(`config version ${configVersion}; ${nodes.length} Envoy stream(s) connected, ${inSync} in sync\n`);
    if (nodes.length === 0) return 0;
    const now = Date.now();
    const rows = nodes.map((n) => {
      const id = n.identity as { spiffeId?: string; method?: string } | undefined;
      const nack = Object.entries(n.types).find(([, t]) => t.lastNack !== undefined);
      return [
        n.nodeId,
        n.group,
        id?.spiffeId === undefined ? '-' : `${id.spiffeId}${id.method === undefined ? '' : ` (${id.method})`}`,
        n.protocol,
        n.ackedConfigVersion === undefined ? '-' : String(n.ackedConfigVersion),
        n.inSync ? 'yes' : 'NO',
        nack === undefined ? '-' : `${nack[0]}: ${nack[1].lastNack!.message.slice(0, 80)}`,
        age(n.connectedSince, now),
      ];
    });
    io.stdout.write(formatTable(['NODE', 'GROUP', 'IDENTITY', 'PROTOCOL', 'ACKED', 'IN SYNC', 'LAST NACK', 'AGE'], rows));
    return 0;
  },
};
