/**
 * `tsx control-plane/src/mock-model/main.ts [--version v1] [--host 127.0.0.1] [--port 8000] [--models a,b] [--chunk-size 8]`
 * Starts the mock model server; flags override env MOCK_MODEL_VERSION, MOCK_MODEL_HOST,
 * MOCK_MODEL_PORT, MOCK_MODEL_MODELS, MOCK_MODEL_CHUNK_SIZE. Defaults: version v1, 127.0.0.1:8000,
 * model gpt-4o-mini, chunk size 8. Exits 2 on a bad flag (naming it), 0 on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { createMockModelServer } from './mock-model-server.js';

function intOf(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new TypeError(`${name}: must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

async function main(): Promise<number> {
  const env = process.env;
  let server;
  try {
    const { values } = parseArgs({
      options: {
        version: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        models: { type: 'string' },
        'chunk-size': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help === true) {
      process.stdout.write('usage: mock-model [--version v1] [--host 127.0.0.1] [--port 8000] [--models gpt-4o-mini,...] [--chunk-size 8]\n');
      return 0;
    }
    server = createMockModelServer({
      version: values.version ?? env['MOCK_MODEL_VERSION'] ?? 'v1',
      host: values.host ?? env['MOCK_MODEL_HOST'] ?? '127.0.0.1',
      port: intOf('--port', values.port ?? env['MOCK_MODEL_PORT'] ?? '8000', 0, 65535),
      models: (values.models ?? env['MOCK_MODEL_MODELS'] ?? 'gpt-4o-mini').split(',').map((s) => s.trim()).filter((s) => s !== ''),
      chunkSize: intOf('--chunk-size', values['chunk-size'] ?? env['MOCK_MODEL_CHUNK_SIZE'] ?? '8', 1, 65536),
    });
  } catch (err) {
    process.stderr.write(`mock-model: ${(err as Error).message}\n`);
    return 2;
  }
  const { url } = await server.listen();
  process.stdout.write(`mock model server listening on ${url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.close();
  return 0;
}

process.exitCode = await main();
