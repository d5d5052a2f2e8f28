/**
 * Finds the proxy-wasm host that runs the compiled filter for `meshward scan` (and anything else
 * in the CLI that needs the real filter). Commands receive the host as a {@link DryRunHostFactory}
 * (the same injection the API's DLP engine uses, api/dlp-engine.ts) and never import it.
 *
 * Resolution, first match wins:
 * 1. `MESHWARD_PROXY_WASM_HOST`: a module path or URL exporting `createEnvoyHost(options)`.
 * 2. The emulator of this source checkout (test/host: `index.js` next to a compiled tree, else
 *    `index.ts` under tsx). It is loaded by a computed path so neither tsc's production build
 *    (tsconfig.build.json) nor a bundler pulls test code in; a tree without it gets a clear error.
 *
 * This file is the single place to change once the emulator's core moves to a runtime location.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DryRunHostFactory } from '../api/dlp-engine.js';
import { CliError } from './cli-error.js';

export const PROXY_WASM_HOST_ENV = 'MESHWARD_PROXY_WASM_HOST';

/** Candidate module files of the source checkout's emulator, relative to this file. */
function checkoutCandidates(): string[] {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const dir = resolve(here, '..', '..', '..', 'test', 'host');
  return [resolve(dir, 'index.js'), resolve(dir, 'index.ts')];
}

export async function loadProxyWasmHost(env: Readonly<Record<string, string | undefined>>, cwd: string): Promise<DryRunHostFactory> {
  const configured = env[PROXY_WASM_HOST_ENV];
  let specifier: string | undefined;
  if (configured !== undefined && configured !== '') {
    specifier = /^[a-z]+:/.test(configured) ? configured : pathToFileURL(isAbsolute(configured) ? configured : resolve(cwd, configured)).href;
  } else {
    const found = checkoutCandidates().find((p) => existsSync(p));
    if (found !== undefined) specifier = pathToFileURL(found).href;
  }
  if (specifier === undefined) {
    throw new CliError(
      'USAGE',
      `no proxy-wasm host found to run the filter locally: run meshward from a source checkout (npm install) or set ${PROXY_WASM_HOST_ENV} to a module exporting createEnvoyHost`,
    );
  }
  let mod: { createEnvoyHost?: unknown };
  try {
    mod = (await import(specifier)) as { createEnvoyHost?: unknown };
  } catch (err) {
    throw new CliError('USAGE', `cannot load the proxy-wasm host ${specifier}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof mod.createEnvoyHost !== 'function') throw new CliError('USAGE', `${specifier} does not export createEnvoyHost`);
  return mod.createEnvoyHost as DryRunHostFactory;
}
