// The built filter (filter/build/meshward.wasm, built by `npm run build:filter`) must link in
// Envoy: its imports are a subset of what Envoy registers for ABI 0.2.1 (with matching
// signatures), it never imports env.abort or an ABI 0.1.0-only function, and it exports the ABI
// marker, the allocator and the callbacks with the spec's signatures.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ABI_010_ONLY, ENVOY_ENV_EXTRAS, ENVOY_PROXY_IMPORTS, ENVOY_WASI_FUNCTIONS, readModuleInterface } from './envoy-imports.js';
import { createEnvoyHost } from './index.js';
import { compileWat } from './wat-guest.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ARTIFACTS = ['filter/build/meshward.wasm', 'filter/build/meshward.debug.wasm'];

/** Callback exports of ABI 0.2.1 and their signatures (spec abi-versions/v0.2.1). */
const CALLBACK_SIGNATURES: Record<string, [string, string]> = {
  proxy_abi_version_0_2_1: ['', ''],
  proxy_on_memory_allocate: ['i32', 'i32'],
  proxy_on_context_create: ['i32 i32', ''],
  proxy_on_vm_start: ['i32 i32', 'i32'],
  proxy_on_configure: ['i32 i32', 'i32'],
  proxy_on_tick: ['i32', ''],
  proxy_on_done: ['i32', 'i32'],
  proxy_on_log: ['i32', ''],
  proxy_on_delete: ['i32', ''],
  proxy_on_request_headers: ['i32 i32 i32', 'i32'],
  proxy_on_request_body: ['i32 i32 i32', 'i32'],
  proxy_on_request_trailers: ['i32 i32', 'i32'],
  proxy_on_response_headers: ['i32 i32 i32', 'i32'],
  proxy_on_response_body: ['i32 i32 i32', 'i32'],
  proxy_on_response_trailers: ['i32 i32', 'i32'],
  proxy_on_http_call_response: ['i32 i32 i32 i32 i32', ''],
  proxy_on_queue_ready: ['i32 i32', ''],
  proxy_on_foreign_function: ['i32 i32 i32', ''],
  _initialize: ['', ''],
};

function envoyProvides(module: string, name: string): boolean {
  if (module === 'env') return name in ENVOY_PROXY_IMPORTS || (ENVOY_ENV_EXTRAS as readonly string[]).includes(name);
  if (module === 'wasi_snapshot_preview1' || module === 'wasi_unstable') return (ENVOY_WASI_FUNCTIONS as readonly string[]).includes(name);
  return false;
}

describe.each(ARTIFACTS)('%s', (artifact) => {
  const path = resolve(root, artifact);
  const load = (): Uint8Array => {
    if (!existsSync(path)) throw new Error(`${artifact} is missing: run \`npm run build:filter\` first`);
    return new Uint8Array(readFileSync(path));
  };

  it('imports only functions Envoy registers for ABI 0.2.1, with Envoy’s signatures', () => {
    const { imports } = readModuleInterface(load());
    const unknown = imports.filter((i) => i.kind !== 'function' || !envoyProvides(i.module, i.name));
    expect(unknown.map((i) => `${i.module}.${i.name}`)).toEqual([]);
    for (const i of imports.filter((x) => x.module === 'env' && x.name in ENVOY_PROXY_IMPORTS)) {
      const [params, results] = ENVOY_PROXY_IMPORTS[i.name]!;
      expect(`${i.name}(${i.params}) -> ${i.results}`).toBe(`${i.name}(${params}) -> ${results}`);
    }
    expect(imports.some((i) => i.module === 'env' && i.name === 'abort')).toBe(false);
    expect(imports.filter((i) => (ABI_010_ONLY as readonly string[]).includes(i.name))).toEqual([]);
  });

  it('exports the ABI marker, proxy_on_memory_allocate, memory and the callbacks with the spec’s signatures', () => {
    const { exports } = readModuleInterface(load());
    const byName = new Map(exports.map((e) => [e.name, e]));
    expect(byName.get('proxy_abi_version_0_2_1')?.kind).toBe('function');
    expect(byName.get('proxy_on_memory_allocate')?.kind).toBe('function');
    expect(byName.get('memory')?.kind).toBe('memory');
    expect(byName.has('proxy_abi_version_0_1_0')).toBe(false);
    for (const e of exports.filter((x) => x.name in CALLBACK_SIGNATURES)) {
      const [params, results] = CALLBACK_SIGNATURES[e.name]!;
      expect(`${e.name}(${e.params}) -> ${e.results}`).toBe(`${e.name}(${params}) -> ${results}`);
    }
  });

  it('loads and starts in the emulator with an empty configuration or fails start cleanly', async () => {
    const started = await createEnvoyHost({ wasm: load(), pluginConfig: '{}' }).then(
      () => 'started',
      (e: { code?: string }) => e.code,
    );
    expect(['started', 'PLUGIN_START_FAILED']).toContain(started);
  });
});

describe('the reference lists', () => {
  it('match what the emulator links: a module importing every listed function instantiates', async () => {
    const lines = Object.entries(ENVOY_PROXY_IMPORTS).map(
      ([n, [p, r]]) => `(import "env" "${n}" (func ${p ? `(param ${p})` : ''} ${r ? `(result ${r})` : ''}))`,
    );
    const wasm = await compileWat(`(module ${lines.join('\n')}
      (memory (export "memory") 1)
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 1024)))`);
    await expect(createEnvoyHost({ wasm })).resolves.toBeDefined();
  });

  it('reads a module interface (parser self-check on a known module)', async () => {
    const wasm = await compileWat(`(module
      (import "env" "proxy_increment_metric" (func (param i32 i64) (result i32)))
      (memory (export "memory") 1)
      (func (export "f") (param i32 i64) (result f64) (f64.const 0)))`);
    const { imports, exports } = readModuleInterface(wasm);
    expect(imports).toEqual([{ module: 'env', name: 'proxy_increment_metric', kind: 'function', params: 'i32 i64', results: 'i32' }]);
    expect(exports).toEqual([
      { name: 'memory', kind: 'memory' },
      { name: 'f', kind: 'function', params: 'i32 i64', results: 'f64' },
    ]);
  });
});
