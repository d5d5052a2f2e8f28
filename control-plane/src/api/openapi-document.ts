import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createStore } from '../store/store.js';
import { createApp } from './app.js';

/**
 * The API's OpenAPI 3 document, as served at /openapi.json, built without a server or a database
 * (an in-memory store, nothing listening). Deterministic for a given build.
 */
export async function buildOpenApiDocument(): Promise<Record<string, unknown>> {
  const store = createStore({ path: ':memory:' });
  const app = await createApp({ store, dlpConfigSchema: false });
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
    store.close();
  }
}

// `tsx control-plane/src/api/openapi-document.ts [file]` writes it (to stdout without a file).
if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? '')).href) {
  const doc = `${JSON.stringify(await buildOpenApiDocument(), null, 2)}\n`;
  const out = process.argv[2];
  if (out === undefined) process.stdout.write(doc);
  else writeFileSync(out, doc);
}
