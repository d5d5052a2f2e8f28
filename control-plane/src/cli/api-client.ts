/**
 * A small client of the meshward REST API: bearer token, JSON bodies, problem+json errors turned
 * into {@link CliError}s that name the field and the reason the server gave.
 */
import { CliError } from './cli-error.js';
import type { Connection } from './connection.js';

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON, or the text when the body is not JSON, or undefined when empty. */
  readonly body: unknown;
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Statuses returned to the caller instead of thrown (e.g. 404 for "does it exist?"). */
  readonly accept?: readonly number[];
}

export interface ApiClient {
  readonly baseUrl: string;
  request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
}

interface Problem {
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  errors?: { in?: string; field?: string; reason?: string }[];
}

/** One line per issue: `<detail>` then `  - <field>: <reason>`. */
export function formatProblem(status: number, body: unknown): string {
  if (body !== null && typeof body === 'object') {
    const p = body as Problem;
    const head = `${status} ${p.code ?? p.title ?? ''}: ${p.detail ?? p.title ?? ''}`.replace(/\s+:/, ':');
    const lines = (p.errors ?? []).map((e) => `  - ${e.field ?? e.in ?? '?'}: ${e.reason ?? ''}`);
    return [head, ...lines].join('\n');
  }
  return `${status}: ${typeof body === 'string' && body !== '' ? body : 'no details'}`;
}

export function createApiClient(connection: Connection, fetchImpl: typeof fetch = fetch): ApiClient {
  return {
    baseUrl: connection.baseUrl,
    async request(method, path, options = {}) {
      if (connection.token === undefined) {
        throw new CliError('CONNECTION', `no API token: ${connection.tokenSource}. Start the control plane (npm start) or pass --token.`);
      }
      const headers: Record<string, string> = { authorization: `Bearer ${connection.token}`, accept: 'application/json', ...(options.headers ?? {}) };
      let payload: string | undefined;
      if (options.body !== undefined) {
        headers['content-type'] = 'application/json';
        payload = JSON.stringify(options.body);
      }
      let res: Response;
      try {
        res = await fetchImpl(connection.baseUrl + path, { method, headers, ...(payload === undefined ? {} : { body: payload }) });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new CliError('CONNECTION', `cannot reach the control plane at ${connection.baseUrl} (${cause?.code ?? cause?.message ?? (err as Error).message}). Is it running (npm start)? Set --url or MESHWARD_URL.`, { cause: err });
      }
      const text = await res.text();
      let body: unknown;
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      }
      if (res.status < 400 || options.accept?.includes(res.status) === true) return { status: res.status, headers: res.headers, body };
      if (res.status === 401) {
        throw new CliError('CONNECTION', `the control plane refused the token from ${connection.tokenSource} (401). ${formatProblem(res.status, body)}`);
      }
      if (res.status === 404) throw new CliError('NOT_FOUND', formatProblem(res.status, body));
      throw new CliError('API', formatProblem(res.status, body));
    },
  };
}
