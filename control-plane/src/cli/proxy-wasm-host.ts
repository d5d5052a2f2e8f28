/**
 * Finds the proxy-wasm host that runs the compiled filter for `meshward scan` (and anything else
 * in the CLI that needs the real filter). Commands receive the host as a {@link DryRunHostFactory}
 * (the same injection the API's DLP engine uses, api/dlp-engine.ts) and never import it.
 *
 * Resolution, first match wins:
 * 1. `MESHWARD_PROXY_WASM_HOST`: a module path or URL exporting `createEnvoyHost(options)`.
 * 2. meshward's own proxy-wasm host (control-plane/src/wasm-host), the one the tests use.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DryRunHostFactory } from '../api/dlp-engine.js';
import { createEnvoyHost } from '../wasm-host/index.js';
import { CliError } from './cli-error.js';

export const PROXY_WASM_HOST_ENV = 'MESHWARD_PROXY_WASM_HOST';

export async function loadProxyWasmHost(env: Readonly<Record<string, string | undefined>>, cwd: string): Promise<DryRunHostFactory> {
  const configured = env[PROXY_WASM_HOST_ENV];
  if (configured === undefined || configured === '') return createEnvoyHost;
  const specifier = /^[a-z]+:/.test(configured) ? configured : pathToFileURL(isAbsolute(configured) ? configured : resolve(cwd, configured)).href;
  let mod: { createEnvoyHost?: unknown };
  try {
    mod = (await import(specifier)) as { createEnvoyHost?: unknown };
  } catch (err) {
    throw new CliError('USAGE', `cannot load the proxy-wasm host ${specifier}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof mod.createEnvoyHost !== 'function') throw new CliError('USAGE', `${specifier} does not export createEnvoyHost`);
  return mod.createEnvoyHost as DryRunHostFactory;
}
