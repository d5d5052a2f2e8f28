import type { DlpDryRunResult, DlpEnginePort, DlpFinding } from './ports.js';

/**
 * The DLP engine behind `POST /v1/dlp-policies/dry-run` and the config check of DLP policy writes:
 * the real compiled filter (.wasm) run by a proxy-wasm host that behaves like Envoy.
 *
 * The host is injected (`createHost`) so the engine depends only on the shape below; the control
 * plane's wiring passes meshward's own proxy-wasm host (control-plane/src/wasm-host, the one the
 * tests use), and `MESHWARD_PROXY_WASM_HOST` may name another (cli/proxy-wasm-host.ts).
 */

type HeaderPair = readonly [string, string];

/** The part of a proxy-wasm HTTP stream the engine drives (wasm-host's HttpStream has this shape). */
export interface DryRunStream {
  requestHeaders(pairs: readonly HeaderPair[], endOfStream: boolean): unknown;
  requestBody(chunk: string | Uint8Array, endOfStream: boolean): unknown;
  responseHeaders(pairs: readonly HeaderPair[], endOfStream: boolean): unknown;
  responseBody(chunk: string | Uint8Array, endOfStream: boolean): unknown;
  readonly upstream: { readonly bodyText: string; readonly headers: readonly HeaderPair[] | null };
  readonly downstream: { readonly bodyText: string; readonly headers: readonly HeaderPair[] | null };
  readonly localReply: { readonly status: number; readonly bodyText: string; readonly headers: readonly HeaderPair[] } | undefined;
  complete(): void;
}

/** The part of a proxy-wasm host the engine uses (wasm-host's EnvoyHost has this shape). */
export interface DryRunHost {
  newStream(options?: { properties?: Readonly<Record<string, unknown>> }): DryRunStream;
  readonly logs: readonly { readonly message: string; readonly levelName?: string }[];
  shutdown(): void;
}

/** Starts a host running `wasm` with `pluginConfig`; rejects (with the filter's reason) when the plugin does not start. */
export type DryRunHostFactory = (options: { wasm: Uint8Array | string; pluginConfig: string; logLevel: 'info' }) => Promise<DryRunHost>;

export interface DlpEngineOptions {
  /** The compiled filter: bytes or a file path (e.g. filter/build/meshward.wasm). */
  readonly wasm: Uint8Array | string;
  readonly createHost: DryRunHostFactory;
  /** Default SPIFFE ID a dry-run request comes from (connection.uri_san_peer_certificate) when the call names none. Defaults to none. */
  readonly principal?: string;
}

/** The filter refused the configuration (its plugin did not start). `message` is the filter's reason. */
export class DlpConfigRefused extends Error {
  override readonly name = 'DlpConfigRefused';
}

/** One parsed `{"meshward":"audit",...}` line of the filter (see filter/assembly/policy/audit.ts). */
interface AuditLine {
  meshward: 'audit';
  direction?: string;
  outcome?: string;
  would?: string;
  findings?: DlpFinding[];
  errors?: string[];
}

function auditLines(logs: readonly { message: string }[]): AuditLine[] {
  const out: AuditLine[] = [];
  for (const l of logs) {
    const start = l.message.indexOf('{"meshward":"audit"');
    if (start < 0) continue;
    try {
      out.push(JSON.parse(l.message.slice(start)) as AuditLine);
    } catch {
      // not a complete audit line; ignore
    }
  }
  return out;
}

/**
 * The filter's own words for a refused config: its "invalid plugin configuration: <path>: <reason>"
 * line when present (path in JSONPath form, `$.detectors.email.action`), else the host's message.
 */
function reasonOf(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const m = /invalid plugin configuration: ([^\n]+)/.exec(msg);
  const reason = m !== null ? m[1]! : msg;
  return reason.length > 2000 ? `${reason.slice(0, 2000)}…` : reason;
}

/**
 * Creates the engine. Each call gets a fresh host (isolated VM state, no cross-talk between
 * operators' dry runs); calls are serialized so a burst cannot hold many VMs in memory at once.
 */
export function createDlpEngine(options: DlpEngineOptions): DlpEnginePort {
  let queue: Promise<unknown> = Promise.resolve();
  const serialize = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };
  const start = (config: unknown) =>
    options.createHost({ wasm: options.wasm, pluginConfig: JSON.stringify(config), logLevel: 'info' });

  return {
    checkConfig(config) {
      return serialize(async () => {
        let host: DryRunHost;
        try {
          host = await start(config);
        } catch (err) {
          return reasonOf(err);
        }
        host.shutdown();
        return undefined;
      });
    },
    dryRun(input) {
      return serialize(async (): Promise<DlpDryRunResult> => {
        let host: DryRunHost;
        try {
          host = await start(input.config);
        } catch (err) {
          throw new DlpConfigRefused(reasonOf(err));
        }
        try {
          const principal = input.principal ?? options.principal;
          const properties = principal === undefined ? {} : { 'connection.uri_san_peer_certificate': principal, 'connection.mtls': true };
          const s = host.newStream({ properties });
          const requestHeaders: HeaderPair[] = [
            [':method', 'POST'],
            [':path', input.path],
            [':authority', 'meshward-dry-run'],
            [':scheme', 'https'],
            ['content-type', input.contentType],
          ];
          if (input.direction === 'request') {
            s.requestHeaders(requestHeaders, input.payload.length === 0);
            if (input.payload.length > 0) s.requestBody(input.payload, true);
          } else {
            s.requestHeaders(requestHeaders, true);
            if (s.localReply === undefined) {
              s.responseHeaders([[':status', '200'], ['content-type', input.contentType]], input.payload.length === 0);
              if (input.payload.length > 0) s.responseBody(input.payload, true);
            }
          }
          const reply = s.localReply;
          const passed = input.direction === 'request' ? s.upstream : s.downstream;
          s.complete();
          // Only the audit lines of the inspected direction count: a local reply to a blocked
          // request runs through the filter's response callbacks and logs a response line too.
          const lines = auditLines(host.logs).filter((l) => l.direction === undefined || l.direction === input.direction);
          const findings = lines.flatMap((l) => l.findings ?? []);
          const outcome = [...lines].reverse().find((l) => l.outcome !== undefined)?.outcome;
          const verdict = outcome ?? (reply !== undefined ? 'block' : 'allow');
          return {
            verdict,
            findings,
            ...(reply === undefined
              ? { output: passed.bodyText }
              : { localReply: { status: reply.status, body: reply.bodyText, headers: Object.fromEntries(reply.headers) } }),
            logs: host.logs.map((l) => l.message),
          };
        } finally {
          host.shutdown();
        }
      });
    },
  };
}
