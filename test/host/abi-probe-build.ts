// Builds test/fixtures/abi-probe (an AssemblyScript plugin made of meshward's ABI layer) with
// asc's programmatic API, using the filter's compiler settings (incremental runtime, SIMD,
// meshward's abort, _initialize start).
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const PROBE_WASM = resolve(repoRoot, 'test/fixtures/abi-probe/build/abi-probe.wasm');

export async function buildAbiProbe(optimize = true): Promise<string> {
  const asc = (await import('assemblyscript/asc')).default;
  await mkdir(dirname(PROBE_WASM), { recursive: true });
  const out = optimize ? PROBE_WASM : PROBE_WASM.replace(/\.wasm$/, '.debug.wasm');
  const stderr: string[] = [];
  const { error } = await asc.main(
    [
      'test/fixtures/abi-probe/assembly/index.ts',
      '--outFile',
      out,
      '--runtime',
      'incremental',
      '--enable',
      'simd',
      '--use',
      'abort=filter/assembly/abi/abort/meshwardAbort',
      '--exportStart',
      '_initialize',
      ...(optimize ? ['-O3'] : ['--debug']),
      '--baseDir',
      repoRoot,
    ],
    {
      stdout: { write: () => true },
      stderr: {
        write: (chunk: string | Uint8Array) => {
          stderr.push(typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk));
          return true;
        },
      },
    },
  );
  if (error) throw new Error(`abi-probe build failed: ${error.message}\n${stderr.join('')}`);
  return out;
}
