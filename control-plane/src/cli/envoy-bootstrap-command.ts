import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { createApiClient } from './api-client.js';
import { CONNECTION_HELP, CONNECTION_OPTIONS, stringFlag, type CliCommand } from './cli-command.js';
import { CliError } from './cli-error.js';
import { listAll } from './get-command.js';
import { resolveConnection } from './connection.js';

/** The bootstrap templates shipped in envoy/ (decoded into Envoy's Bootstrap proto by test/envoy). */
export const BOOTSTRAP_TEMPLATES = {
  gateway: fileURLToPath(new URL('../../../envoy/gateway-bootstrap.yaml', import.meta.url)),
  sidecar: fileURLToPath(new URL('../../../envoy/sidecar-bootstrap.yaml', import.meta.url)),
} as const;

export type BootstrapRole = keyof typeof BOOTSTRAP_TEMPLATES;

const SPIFFE = /^spiffe:\/\/([a-z0-9.-]+)\/ns\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/sa\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)$/;

export interface BootstrapInput {
  readonly role: BootstrapRole;
  /** `<namespace>/<name>` of the registered workload. */
  readonly workload: string;
  readonly nodeId: string;
  readonly joinToken: string;
  readonly xdsHost: string;
  readonly xdsPort: number;
  readonly adminPort?: number;
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Path (as the Envoy sees it) of the control plane's trust bundle PEM. When set, xds_cluster and
   * meshward_als get a TLS transport socket: ALPN h2, SNI = the control plane's host name, the chain
   * verified against this bundle AND the certificate's DNS/IP SAN matched to the host, so a
   * workload certificate from the same mesh CA (URI SAN only) cannot pose as the control plane.
   */
  readonly xdsCaFile?: string;
  /** Top comment lines (without `#`). */
  readonly comment: readonly string[];
  /** Template text; defaults to the file for `role`. */
  readonly template?: string;
}

/**
 * Pure (given the template): fills a bootstrap template for one Envoy — node id, workload, labels,
 * join token, the control plane's address (xds_cluster and meshward_als) and the admin port —
 * keeping the template's structure and comments.
 */
export function renderBootstrap(input: BootstrapInput): string {
  const doc = parseDocument(input.template ?? readFileSync(BOOTSTRAP_TEMPLATES[input.role], 'utf8'));
  doc.setIn(['node', 'id'], input.nodeId);
  doc.setIn(['node', 'metadata', 'meshward.workload'], input.workload);
  doc.setIn(['node', 'metadata', 'role'], input.role);
  if (input.labels !== undefined && Object.keys(input.labels).length > 0) doc.setIn(['node', 'metadata', 'labels'], doc.createNode({ ...input.labels }));
  else doc.deleteIn(['node', 'metadata', 'labels']);
  const services = doc.getIn(['dynamic_resources', 'ads_config', 'grpc_services']) as { items: unknown[] } | undefined;
  const n = services?.items.length ?? 0;
  let tokenSet = false;
  for (let i = 0; i < n; i++) {
    const md = doc.getIn(['dynamic_resources', 'ads_config', 'grpc_services', i, 'initial_metadata']) as { items: unknown[] } | undefined;
    for (let j = 0; j < (md?.items.length ?? 0); j++) {
      if (doc.getIn(['dynamic_resources', 'ads_config', 'grpc_services', i, 'initial_metadata', j, 'key']) === 'x-meshward-join-token') {
        doc.setIn(['dynamic_resources', 'ads_config', 'grpc_services', i, 'initial_metadata', j, 'value'], input.joinToken);
        tokenSet = true;
      }
    }
  }
  if (!tokenSet) throw new CliError('USAGE', 'the bootstrap template has no x-meshward-join-token initial metadata');
  const clusters = doc.getIn(['static_resources', 'clusters']) as { items: unknown[] } | undefined;
  for (let i = 0; i < (clusters?.items.length ?? 0); i++) {
    const name = doc.getIn(['static_resources', 'clusters', i, 'name']);
    if (name !== 'xds_cluster' && name !== 'meshward_als') continue;
    const sa = ['static_resources', 'clusters', i, 'load_assignment', 'endpoints', 0, 'lb_endpoints', 0, 'endpoint', 'address', 'socket_address'];
    doc.setIn([...sa, 'address'], input.xdsHost);
    doc.setIn([...sa, 'port_value'], input.xdsPort);
    // A host name needs DNS resolution; the templates use STATIC for the loopback default.
    const isIp = isIP(input.xdsHost) !== 0;
    if (!isIp) doc.setIn(['static_resources', 'clusters', i, 'type'], 'STRICT_DNS');
    if (input.xdsCaFile !== undefined) {
      doc.setIn(
        ['static_resources', 'clusters', i, 'transport_socket'],
        doc.createNode({
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
            ...(isIp ? {} : { sni: input.xdsHost }),
            common_tls_context: {
              alpn_protocols: ['h2'],
              validation_context: {
                trusted_ca: { filename: input.xdsCaFile },
                match_typed_subject_alt_names: [{ san_type: isIp ? 'IP_ADDRESS' : 'DNS', matcher: { exact: input.xdsHost } }],
              },
            },
          },
        }),
      );
    }
  }
  if (input.adminPort !== undefined) doc.setIn(['admin', 'address', 'socket_address', 'port_value'], input.adminPort);
  doc.commentBefore = input.comment.map((l) => ` ${l}`).join('\n');
  return doc.toString({ lineWidth: 0 });
}

interface WorkloadView {
  name: string;
  namespace: string;
  serviceAccount: string;
  role: string;
  labels?: Record<string, string>;
  status?: { spiffeId?: string };
}

function hostPort(raw: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(raw);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || port < 1 || port > 65535) throw CliError.usage(`--xds-address: "${raw}" must be host:port (e.g. 127.0.0.1:18000)`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

export const envoyBootstrapCommand: CliCommand = {
  words: ['envoy', 'bootstrap'],
  summary: 'Print an Envoy bootstrap for a workload, with a fresh join token',
  usesApi: true,
  options: {
    ...CONNECTION_OPTIONS,
    identity: { type: 'string', short: 'i' },
    role: { type: 'string' },
    workload: { type: 'string' },
    'node-id': { type: 'string' },
    'xds-address': { type: 'string' },
    'admin-port': { type: 'string' },
    'xds-ca-file': { type: 'string' },
    ttl: { type: 'string' },
  },
  help: `usage: meshward envoy bootstrap --identity spiffe://<trust domain>/ns/<ns>/sa/<sa> [flags] > envoy.yaml

Finds the registered workload with this SPIFFE identity, issues a join token for it (shown
only here; the control plane keeps its hash) and prints the Envoy bootstrap for its role
(envoy/gateway-bootstrap.yaml or envoy/sidecar-bootstrap.yaml) filled in: node id, workload,
labels, join token and the control plane's xDS address. Run it with \`envoy -c envoy.yaml\`.
The output contains a secret: write it to a file only the Envoy user can read.

Flags:
  -i, --identity <spiffe-id>  the workload's identity (required)
  --role <gateway|sidecar>    defaults to the workload's role
  --workload <ns/name>        which workload, when several share the identity
  --node-id <id>              Envoy node id (default <workload name>-<6 random hex>)
  --xds-address <host:port>   the control plane's xDS address as Envoy reaches it (default 127.0.0.1:18000)
  --admin-port <port>         Envoy admin port (default from the template: 9901 gateway, 9902 sidecar)
  --xds-ca-file <path>        the control plane runs xds.tls: tls; <path> is where the Envoy finds
                              the mesh trust bundle (a copy of <dataDir>/ca-bundle.pem). Adds TLS to
                              xds_cluster and meshward_als, verifying the control plane's DNS/IP SAN
  --ttl <seconds>             join token lifetime (default: the control plane's ca.joinTokenTtl)

${CONNECTION_HELP}

Example:
  meshward envoy bootstrap --identity spiffe://meshward.local/ns/ai/sa/edge > edge-envoy.yaml`,
  async run(positionals, flags, io) {
    if (positionals.length > 0) throw CliError.usage(`envoy bootstrap: unexpected argument "${positionals[0]!}"`);
    const identity = stringFlag(flags, 'identity');
    if (identity === undefined) throw CliError.usage('--identity: required (spiffe://<trust domain>/ns/<namespace>/sa/<service account>)');
    const m = SPIFFE.exec(identity);
    if (m === null) throw CliError.usage(`--identity: "${identity}" is not a workload SPIFFE ID (spiffe://<trust domain>/ns/<namespace>/sa/<service account>)`);
    const namespace = m[2]!;
    const serviceAccount = m[4]!;
    const roleFlag = stringFlag(flags, 'role');
    if (roleFlag !== undefined && roleFlag !== 'gateway' && roleFlag !== 'sidecar') throw CliError.usage(`--role: must be gateway or sidecar, got "${roleFlag}"`);
    const { host: xdsHost, port: xdsPort } = hostPort(stringFlag(flags, 'xds-address') ?? '127.0.0.1:18000');
    const xdsCaFile = stringFlag(flags, 'xds-ca-file');
    if (xdsCaFile !== undefined && !xdsCaFile.startsWith('/')) throw CliError.usage(`--xds-ca-file: "${xdsCaFile}" must be an absolute path (as the Envoy sees it)`);
    const adminRaw = stringFlag(flags, 'admin-port');
    const adminPort = adminRaw === undefined ? undefined : Number(adminRaw);
    if (adminPort !== undefined && (!Number.isInteger(adminPort) || adminPort < 1 || adminPort > 65535)) throw CliError.usage(`--admin-port: "${adminRaw}" is not a port (1-65535)`);
    const ttlRaw = stringFlag(flags, 'ttl');
    const ttl = ttlRaw === undefined ? undefined : Number(ttlRaw);
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1)) throw CliError.usage(`--ttl: "${ttlRaw}" must be a positive integer (seconds)`);

    const client = createApiClient(resolveConnection(flags, io), io.fetch);
    const all = (await listAll(client, '/v1/workloads', { namespace })) as unknown as WorkloadView[];
    const wanted = stringFlag(flags, 'workload');
    let candidates = all.filter((w) => (w.status?.spiffeId ?? '') === identity || (w.status?.spiffeId === undefined && w.serviceAccount === serviceAccount));
    if (wanted !== undefined) candidates = candidates.filter((w) => `${w.namespace}/${w.name}` === wanted);
    if (candidates.length === 0) {
      throw new CliError(
        'NOT_FOUND',
        `no workload${wanted === undefined ? '' : ` ${wanted}`} with identity ${identity}; register one first, e.g. meshward apply -f with\n  kind: Workload\n  name: <name>\n  namespace: ${namespace}\n  serviceAccount: ${serviceAccount}\n  role: gateway`,
      );
    }
    if (candidates.length > 1) {
      throw CliError.usage(`several workloads have identity ${identity} (${candidates.map((w) => `${w.namespace}/${w.name}`).join(', ')}): pick one with --workload <ns/name>`);
    }
    const w = candidates[0]!;
    const role = (roleFlag ?? w.role) as string;
    if (role !== 'gateway' && role !== 'sidecar') throw CliError.usage(`workload ${w.namespace}/${w.name} has role ${role}: Envoy bootstraps exist for gateway and sidecar (pass --role)`);
    const issued = await client.request('POST', `/v1/workloads/${encodeURIComponent(w.namespace)}/${encodeURIComponent(w.name)}/join-tokens`, {
      body: { ...(ttl === undefined ? {} : { ttlSeconds: ttl }), description: 'meshward envoy bootstrap' },
    });
    const body = issued.body as { token: string; joinToken: { id: string; expiresAt: string } };
    const nodeId = stringFlag(flags, 'node-id') ?? `${w.name}-${randomBytes(3).toString('hex')}`;
    io.stdout.write(
      renderBootstrap({
        role,
        workload: `${w.namespace}/${w.name}`,
        nodeId,
        joinToken: body.token,
        xdsHost,
        xdsPort,
        ...(xdsCaFile === undefined ? {} : { xdsCaFile }),
        ...(adminPort === undefined ? {} : { adminPort }),
        ...(w.labels === undefined ? {} : { labels: w.labels }),
        comment: [
          `meshward Envoy bootstrap (${role}) for ${identity}, workload ${w.namespace}/${w.name}, node ${nodeId}.`,
          `Join token ${body.joinToken.id} expires ${body.joinToken.expiresAt}. This file holds a secret: keep it private.`,
          'Run: envoy -c <this file>',
        ],
      }),
    );
    io.stderr.write(`issued join token ${body.joinToken.id} for ${identity} (expires ${body.joinToken.expiresAt})\n`);
    return 0;
  },
};
