import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { createDlpEngine, DlpConfigRefused, type DryRunHostFactory } from '../api/dlp-engine.js';
import type { DlpDryRunResult } from '../api/ports.js';
import { booleanFlag, stringFlag, type CliCommand } from './cli-command.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';
import { loadProxyWasmHost } from './proxy-wasm-host.js';
import { formatTable } from './table.js';

/** The compiled filter of this checkout (built by `npm run build:filter`). */
export const DEFAULT_WASM = fileURLToPath(new URL('../../../filter/build/meshward.wasm', import.meta.url));

const VERDICT_RANK: Readonly<Record<string, number>> = { allow: 0, alert: 1, redact: 2, block: 3 };

/**
 * The filter config inside a policy file: the `DlpPolicy` document of a (possibly multi-document)
 * YAML/JSON resource file — `name` picks one when there are several — an object with a `config`
 * field, or the filter config itself.
 */
export function policyConfigOf(text: string, file: string, name?: string): Record<string, unknown> {
  let docs: unknown[];
  try {
    if (/\.json$/i.test(file)) {
      const v: unknown = JSON.parse(text);
      docs = Array.isArray(v) ? v : v !== null && typeof v === 'object' && Array.isArray((v as { items?: unknown }).items) ? (v as { items: unknown[] }).items : [v];
    } else {
      const all = parseAllDocuments(text);
      docs = (Array.isArray(all) ? all : [all]).map((d) => {
        if (d.errors.length > 0) throw d.errors[0]!;
        return d.toJS() as unknown;
      }).filter((d) => d !== null && d !== undefined);
    }
  } catch (err) {
    throw CliError.usage(`--policy ${file}: not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'} (${(err as Error).message.split('\n')[0]})`);
  }
  const objects = docs.filter((d): d is Record<string, unknown> => d !== null && typeof d === 'object' && !Array.isArray(d));
  if (objects.length !== docs.length || objects.length === 0) throw CliError.usage(`--policy ${file}: must hold objects (a DlpPolicy or a filter config)`);
  const policies = objects.filter((o) => o['kind'] === 'DlpPolicy');
  let chosen: Record<string, unknown>;
  if (policies.length > 0) {
    const named = name === undefined ? policies : policies.filter((p) => p['name'] === name);
    if (named.length === 0) throw CliError.usage(`--policy-name: no DlpPolicy "${name ?? ''}" in ${file} (it has ${policies.map((p) => String(p['name'])).join(', ')})`);
    if (named.length > 1) throw CliError.usage(`--policy ${file} holds several DlpPolicies (${policies.map((p) => String(p['name'])).join(', ')}): pick one with --policy-name`);
    chosen = named[0]!;
  } else {
    if (objects.length > 1 || objects[0]!['kind'] !== undefined) {
      throw CliError.usage(`--policy ${file}: no DlpPolicy in it (kinds: ${objects.map((o) => String(o['kind'] ?? '(none)')).join(', ')})`);
    }
    if (name !== undefined) throw CliError.usage(`--policy-name: ${file} is a bare filter config, not DlpPolicy resources`);
    chosen = objects[0]!;
  }
  if ('config' in chosen) {
    const c = chosen['config'];
    if (c === null || typeof c !== 'object' || Array.isArray(c)) throw CliError.usage(`--policy ${file}: config: must be an object`);
    return c as Record<string, unknown>;
  }
  if (chosen['kind'] === 'DlpPolicy') throw CliError.usage(`--policy ${file}: config: required in a DlpPolicy`);
  return chosen;
}

/** content-type from the payload file's extension (.json → application/json, .sse → text/event-stream, else text/plain). */
export function contentTypeOf(file: string): string {
  const ext = extname(file).toLowerCase();
  if (ext === '.json') return 'application/json';
  if (ext === '.sse' || ext === '.ndjson' || ext === '.events') return 'text/event-stream';
  return 'text/plain';
}

export interface ScanInput {
  readonly payload: string;
  readonly config: Record<string, unknown>;
  readonly direction: 'request' | 'response';
  readonly path: string;
  readonly contentType: string;
  readonly principal?: string;
  readonly wasm: Uint8Array | string;
  readonly createHost: DryRunHostFactory;
}

/** Runs the real filter over one payload (fresh VM per call). Throws CliError when the filter refuses the config. */
export async function runScan(input: ScanInput): Promise<DlpDryRunResult> {
  const engine = createDlpEngine({ wasm: input.wasm, createHost: input.createHost });
  try {
    return await engine.dryRun({
      config: input.config,
      payload: input.payload,
      contentType: input.contentType,
      path: input.path,
      direction: input.direction,
      ...(input.principal === undefined ? {} : { principal: input.principal }),
    });
  } catch (err) {
    if (err instanceof DlpConfigRefused) throw CliError.usage(`the filter refused the policy: ${err.message}`);
    throw err;
  }
}

/** The human report: verdict, findings table, and what would pass (or the local reply). */
export function formatScan(r: DlpDryRunResult, direction: 'request' | 'response'): string {
  const out: string[] = [`verdict: ${r.verdict}`, ''];
  if (r.findings.length === 0) out.push('findings: none', '');
  else {
    const extraKeys = [...new Set(r.findings.flatMap((f) => Object.keys(f)))].filter((k) => k !== 'detector' && k !== 'action' && k !== 'count');
    out.push(
      formatTable(
        ['DETECTOR', 'ACTION', 'COUNT', ...extraKeys.map((k) => k.toUpperCase())],
        r.findings.map((f) => [f.detector, String(f.action ?? ''), String(f['count'] ?? ''), ...extraKeys.map((k) => String(f[k] ?? ''))]),
      ),
    );
  }
  if (r.localReply !== undefined) {
    out.push(`blocked: the proxy answers ${r.localReply.status} itself (the ${direction === 'request' ? 'model server never sees the request' : 'client never sees the response'}):`, r.localReply.body);
  } else {
    out.push(`${direction === 'request' ? 'the model server would receive' : 'the client would receive'}:`, r.output ?? '');
  }
  return out.join('\n') + '\n';
}

export const scanCommand: CliCommand = {
  words: ['scan'],
  summary: 'Run the real compiled filter over a payload file locally and print findings',
  usesApi: false,
  options: {
    policy: { type: 'string', short: 'p' },
    'policy-name': { type: 'string' },
    direction: { type: 'string' },
    path: { type: 'string' },
    'content-type': { type: 'string' },
    principal: { type: 'string' },
    wasm: { type: 'string' },
    output: { type: 'string', short: 'o' },
    'fail-on': { type: 'string' },
    logs: { type: 'boolean' },
  },
  help: `usage: meshward scan <payload-file> --policy <file> [flags]

Runs the compiled meshward filter (filter/build/meshward.wasm) in a local proxy-wasm host that
behaves like Envoy, over one request or response body, and prints the verdict, the findings per
detector, and what would reach the other side (redacted) or the local reply (blocked). Nothing
talks to a control plane.

The policy file is YAML or JSON: a DlpPolicy (as \`meshward get dlp-policies <name> -o yaml\`
prints it; its \`config\` is used), a resource file holding DlpPolicies among other resources
(--policy-name picks one when there are several), or the filter config itself (docs/filter.md).

Flags:
  -p, --policy <file>       policy file (required)
  --policy-name <name>      which DlpPolicy of the file
  --direction <d>           request (default) or response
  --path <path>             :path of the request (default /v1/chat/completions; picks the payload shape)
  --content-type <type>     default from the file extension: .json application/json,
                            .sse text/event-stream, else text/plain
  --principal <spiffe-id>   the caller's identity (for per-principal rules)
  --wasm <file>             another build of the filter
  -o, --output json         the full result as JSON
  --fail-on <verdict>       exit 5 when the verdict is at least alert, redact or block
  --logs                    also print the filter's log lines

Exit status: 0 scanned; 5 --fail-on matched; 2 bad input or a policy the filter refuses.

Examples:
  meshward scan prompt.json --policy policy.yaml
  meshward scan reply.sse --policy policy.yaml --direction response`,
  async run(positionals, flags, io: CliIo) {
    return runScanCommand(positionals, flags, io, undefined);
  },
};

/** `scan` with an injectable host (tests); the CLI passes none and the host is looked up. */
export async function runScanCommand(
  positionals: readonly string[],
  flags: Record<string, unknown>,
  io: CliIo,
  createHost: DryRunHostFactory | undefined,
): Promise<number> {
  if (positionals.length !== 1) throw CliError.usage('scan: expected exactly one <payload-file> (see meshward scan --help)');
  const f = flags as Parameters<typeof stringFlag>[0];
  const policyFile = stringFlag(f, 'policy');
  if (policyFile === undefined) throw CliError.usage('--policy: required (a DlpPolicy or filter config file)');
  const direction = stringFlag(f, 'direction') ?? 'request';
  if (direction !== 'request' && direction !== 'response') throw CliError.usage(`--direction: must be request or response, got "${direction}"`);
  const failOn = stringFlag(f, 'fail-on');
  if (failOn !== undefined && !(failOn in VERDICT_RANK && failOn !== 'allow')) throw CliError.usage(`--fail-on: must be alert, redact or block, got "${failOn}"`);
  const output = stringFlag(f, 'output');
  if (output !== undefined && output !== 'json' && output !== 'table') throw CliError.usage(`--output: must be json or table, got "${output}"`);
  const path = stringFlag(f, 'path') ?? '/v1/chat/completions';
  if (!path.startsWith('/')) throw CliError.usage(`--path: must start with "/", got "${path}"`);

  const read = (file: string, what: string): string => {
    try {
      return readFileSync(resolve(io.cwd, file), 'utf8');
    } catch (err) {
      throw CliError.usage(`${what} ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const payloadFile = positionals[0]!;
  const payload = read(payloadFile, 'payload');
  const config = policyConfigOf(read(policyFile, '--policy'), policyFile, stringFlag(f, 'policy-name'));
  const wasmFlag = stringFlag(f, 'wasm');
  const wasmPath = wasmFlag === undefined ? DEFAULT_WASM : resolve(io.cwd, wasmFlag);
  let wasm: Uint8Array;
  try {
    wasm = new Uint8Array(readFileSync(wasmPath));
  } catch (err) {
    throw CliError.usage(
      `${wasmFlag === undefined ? 'the compiled filter' : '--wasm'} ${wasmPath}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})${wasmFlag === undefined ? '; build it with npm run build:filter' : ''}`,
    );
  }
  const principal = stringFlag(f, 'principal');
  const result = await runScan({
    payload,
    config,
    direction,
    path,
    contentType: stringFlag(f, 'content-type') ?? contentTypeOf(payloadFile),
    ...(principal === undefined ? {} : { principal }),
    wasm,
    createHost: createHost ?? (await loadProxyWasmHost(io.env, io.cwd)),
  });
  if (output === 'json') io.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else {
    io.stdout.write(formatScan(result, direction));
    if (booleanFlag(f, 'logs')) io.stdout.write(`\nfilter logs:\n${result.logs.map((l) => `  ${l}`).join('\n')}\n`);
  }
  if (failOn !== undefined && (VERDICT_RANK[result.verdict] ?? 0) >= VERDICT_RANK[failOn]!) {
    throw new CliError('VERDICT', `verdict ${result.verdict} (--fail-on ${failOn})`);
  }
  return 0;
}
