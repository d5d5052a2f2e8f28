/**
 * Where the control plane's REST API is and which token to use. First match wins:
 * - URL: `--url`, `MESHWARD_URL`, else `http://127.0.0.1:8080` (the control plane's default api.port).
 * - token: `--token`, `MESHWARD_TOKEN`, `--token-file`/`MESHWARD_TOKEN_FILE`, else the admin token
 *   file the control plane writes on first start: `<data dir>/admin-token` with the data dir from
 *   `--data-dir`, `MESHWARD_DATA_DIR`, else `./.meshward` (the control plane's default).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';
export const DEFAULT_DATA_DIR = './.meshward';
/** The control plane writes its bootstrap admin token here, inside the data directory. */
export const ADMIN_TOKEN_FILE_NAME = 'admin-token';

export interface ConnectionFlags {
  readonly url?: string | undefined;
  readonly token?: string | undefined;
  readonly 'token-file'?: string | undefined;
  readonly 'data-dir'?: string | undefined;
}

export interface Connection {
  readonly baseUrl: string;
  /** Undefined when none was found: the request then fails with a message saying where we looked. */
  readonly token: string | undefined;
  /** Where the token came from, for error messages. */
  readonly tokenSource: string;
}

export function resolveConnection(flags: ConnectionFlags, io: CliIo): Connection {
  const rawUrl = flags.url ?? io.env['MESHWARD_URL'] ?? DEFAULT_API_URL;
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw CliError.usage(`--url: "${rawUrl}" is not a URL (expected e.g. ${DEFAULT_API_URL})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw CliError.usage(`--url: "${rawUrl}" must use http or https`);
  const baseUrl = url.href.replace(/\/+$/, '');

  if (flags.token !== undefined) return { baseUrl, token: flags.token.trim(), tokenSource: '--token' };
  const envToken = io.env['MESHWARD_TOKEN'];
  if (envToken !== undefined && envToken !== '') return { baseUrl, token: envToken.trim(), tokenSource: 'MESHWARD_TOKEN' };
  const tokenFile = flags['token-file'] ?? io.env['MESHWARD_TOKEN_FILE'];
  if (tokenFile !== undefined && tokenFile !== '') {
    const path = resolve(io.cwd, tokenFile);
    return { baseUrl, token: readToken(path, flags['token-file'] !== undefined ? '--token-file' : 'MESHWARD_TOKEN_FILE'), tokenSource: path };
  }
  const dataDir = flags['data-dir'] ?? io.env['MESHWARD_DATA_DIR'] ?? DEFAULT_DATA_DIR;
  const path = resolve(io.cwd, dataDir, ADMIN_TOKEN_FILE_NAME);
  try {
    return { baseUrl, token: readFileSync(path, 'utf8').trim(), tokenSource: path };
  } catch {
    return { baseUrl, token: undefined, tokenSource: `no --token, MESHWARD_TOKEN, MESHWARD_TOKEN_FILE, and no ${path}` };
  }
}

function readToken(path: string, what: string): string {
  try {
    const t = readFileSync(path, 'utf8').trim();
    if (t === '') throw CliError.usage(`${what}: ${path} is empty`);
    return t;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw CliError.usage(`${what}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}
