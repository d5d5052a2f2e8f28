/**
 * `npm run package:oci [-- --wasm filter/build/meshward.wasm --out dist/oci --version 0.1.0]`
 *
 * Writes the compiled filter as an OCI image layout in both Wasm image variants Istio accepts
 * (see wasm-oci-image.ts): `<out>/meshward-filter/` (oci-layout, index.json, blobs/sha256/...) and
 * the same as one tarball `<out>/meshward-filter.oci.tar`. Byte-for-byte reproducible: the same
 * module and inputs give the same digests. SOURCE_DATE_EPOCH, when set, becomes the tar mtime and
 * the `org.opencontainers.image.created` annotation. Prints the manifest digests (the `sha256` of
 * a WasmPlugin with an oci:// URL) and the module digest (for https:// URLs), and push commands.
 *
 * Exits 2 on a bad flag or a missing module (naming it), 0 otherwise.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildWasmImageLayout, layoutTarball, type WasmImageLayout } from './wasm-oci-image.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface PackageOptions {
  readonly wasmPath: string;
  readonly outDir: string;
  readonly version: string;
  readonly sourceDateEpoch?: number;
}

export interface PackageResult {
  readonly layoutDir: string;
  readonly tarball: string;
  readonly layout: WasmImageLayout;
}

export function packageOci(options: PackageOptions): PackageResult {
  let wasm: Uint8Array;
  try {
    wasm = new Uint8Array(readFileSync(options.wasmPath));
  } catch (err) {
    throw new Error(`--wasm ${options.wasmPath}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); build it with npm run build:filter`);
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { description?: string; license?: string; repository?: string | { url?: string } };
  const repo = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  const mtime = options.sourceDateEpoch ?? 0;
  const layout = buildWasmImageLayout({
    wasm,
    version: options.version,
    rootIds: ['meshward'],
    mtime,
    annotations: {
      'org.opencontainers.image.title': 'meshward-filter',
      'org.opencontainers.image.description': 'meshward DLP filter: proxy-wasm (ABI 0.2.1) module for Envoy and Istio',
      'org.opencontainers.image.version': options.version,
      'org.opencontainers.image.licenses': pkg.license ?? 'Apache-2.0',
      'org.opencontainers.image.vendor': 'meshward',
      ...(repo === undefined ? {} : { 'org.opencontainers.image.source': repo }),
      ...(options.sourceDateEpoch === undefined ? {} : { 'org.opencontainers.image.created': new Date(options.sourceDateEpoch * 1000).toISOString().replace('.000Z', 'Z') }),
    },
  });
  const layoutDir = join(options.outDir, 'meshward-filter');
  rmSync(layoutDir, { recursive: true, force: true });
  for (const [path, bytes] of layout.files) {
    mkdirSync(dirname(join(layoutDir, path)), { recursive: true });
    writeFileSync(join(layoutDir, path), bytes);
  }
  const tarball = join(options.outDir, 'meshward-filter.oci.tar');
  writeFileSync(tarball, layoutTarball(layout, mtime));
  return { layoutDir, tarball, layout };
}

function main(): number {
  let values;
  try {
    ({ values } = parseArgs({ options: { wasm: { type: 'string' }, out: { type: 'string' }, version: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    process.stderr.write(`package:oci: ${(err as Error).message}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write('usage: npm run package:oci [-- --wasm filter/build/meshward.wasm --out dist/oci --version <package version>]\n');
    return 0;
  }
  const sde = process.env['SOURCE_DATE_EPOCH'];
  if (sde !== undefined && sde !== '' && !/^\d{1,12}$/.test(sde)) {
    process.stderr.write(`package:oci: SOURCE_DATE_EPOCH: "${sde}" must be a number of seconds\n`);
    return 2;
  }
  const version = values.version ?? (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  let result: PackageResult;
  try {
    result = packageOci({
      wasmPath: resolve(values.wasm ?? join(root, 'filter/build/meshward.wasm')),
      outDir: resolve(values.out ?? join(root, 'dist/oci')),
      version,
      ...(sde === undefined || sde === '' ? {} : { sourceDateEpoch: Number(sde) }),
    });
  } catch (err) {
    process.stderr.write(`package:oci: ${(err as Error).message}\n`);
    return 2;
  }
  const rel = (p: string) => relative(process.cwd(), p) || '.';
  const { oci, compat } = result.layout.manifests;
  process.stdout.write(
    [
      `OCI image layout: ${rel(result.layoutDir)}  (tarball: ${rel(result.tarball)})`,
      `  ${version}          oci variant     manifest ${oci.digest}`,
      `  ${version}-compat   compat variant  manifest ${compat.digest}`,
      `  module sha256 ${result.layout.wasmSha256}`,
      '',
      'Push (any registry), e.g.:',
      `  oras cp --from-oci-layout ${rel(result.layoutDir)}:${version} ghcr.io/<org>/meshward-filter:${version}`,
      `  skopeo copy oci:${rel(result.layoutDir)}:${version}-compat docker://ghcr.io/<org>/meshward-filter:${version}-compat`,
      `Then in the WasmPlugin: url: oci://ghcr.io/<org>/meshward-filter:${version}  sha256: ${oci.digest.slice(7)}`,
      '',
    ].join('\n'),
  );
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main();
