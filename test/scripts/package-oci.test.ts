/**
 * `npm run package:oci`: the OCI image layout of the built filter, parsed the way a registry
 * client (and Istio's image fetcher) reads it: every blob's digest and size, the media types of
 * both Wasm image variants, the module inside each, and byte-for-byte reproducibility.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readTar, createTar } from '../../scripts/deterministic-tar.js';
import { packageOci } from '../../scripts/package-oci.js';
import { MEDIA_TYPES } from '../../scripts/wasm-oci-image.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WASM = join(ROOT, 'filter/build/meshward.wasm');
const wasm = readFileSync(WASM);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'meshward-oci-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

function blobOf(layoutDir: string, d: Desc): Buffer {
  expect(d.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
  const bytes = readFileSync(join(layoutDir, 'blobs/sha256', d.digest.slice(7)));
  expect(sha(bytes), `digest of ${d.mediaType}`).toBe(d.digest.slice(7));
  expect(bytes.length, `size of ${d.mediaType}`).toBe(d.size);
  return bytes;
}

describe('package:oci', () => {
  const out = tmp();
  const result = packageOci({ wasmPath: WASM, outDir: out, version: '1.2.3' });
  const dir = result.layoutDir;

  it('writes a valid OCI image layout whose blobs all match their digests and sizes', () => {
    expect(JSON.parse(readFileSync(join(dir, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { schemaVersion: number; mediaType: string; manifests: Desc[] };
    expect(index.schemaVersion).toBe(2);
    expect(index.mediaType).toBe(MEDIA_TYPES.index);
    expect(index.manifests.map((m) => [m.mediaType, m.annotations?.['org.opencontainers.image.ref.name']])).toEqual([
      [MEDIA_TYPES.manifest, '1.2.3'],
      [MEDIA_TYPES.manifest, '1.2.3-compat'],
    ]);
    const referenced = new Set<string>();
    for (const m of index.manifests) {
      referenced.add(m.digest.slice(7));
      const manifest = JSON.parse(blobOf(dir, m).toString('utf8')) as { config: Desc; layers: Desc[] };
      for (const d of [manifest.config, ...manifest.layers]) {
        blobOf(dir, d);
        referenced.add(d.digest.slice(7));
      }
    }
    // No stray blobs.
    expect(readdirSync(join(dir, 'blobs/sha256')).sort()).toEqual([...referenced].sort());
  });

  it('oci variant: two layers, runtime config + raw module (what Istio\'s fetcher requires), annotations', () => {
    const manifest = JSON.parse(blobOf(dir, result.layout.manifests.oci).toString('utf8'));
    expect(manifest.mediaType).toBe(MEDIA_TYPES.manifest);
    expect(manifest.config.mediaType).toBe('application/vnd.module.wasm.config.v1+json');
    expect(manifest.layers.map((l: Desc) => l.mediaType)).toEqual(['application/vnd.module.wasm.config.v1+json', 'application/vnd.module.wasm.content.layer.v1+wasm']);
    const module = blobOf(dir, manifest.layers[1]);
    expect(module.equals(wasm)).toBe(true);
    expect(JSON.parse(blobOf(dir, manifest.config).toString('utf8'))).toEqual({ type: 'envoy_proxy', abiVersions: ['proxy_abi_version_0_2_1'], config: { root_ids: ['meshward'] } });
    expect(manifest.annotations).toMatchObject({
      'org.opencontainers.image.title': 'meshward-filter',
      'org.opencontainers.image.version': '1.2.3',
      'org.opencontainers.image.licenses': 'Apache-2.0',
      'module.wasm.image/variant': 'oci',
    });
    expect(result.layout.wasmSha256).toBe(sha(wasm));
  });

  it('compat variant: one tar+gzip layer holding plugin.wasm, image config diff_ids, variant annotation', () => {
    const manifest = JSON.parse(blobOf(dir, result.layout.manifests.compat).toString('utf8'));
    expect(manifest.config.mediaType).toBe('application/vnd.oci.image.config.v1+json');
    expect(manifest.layers.map((l: Desc) => l.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar+gzip']);
    expect(manifest.annotations['module.wasm.image/variant']).toBe('compat');
    const tar = gunzipSync(blobOf(dir, manifest.layers[0]));
    const entries = readTar(tar);
    expect(entries.map((e) => e.name)).toEqual(['plugin.wasm', 'runtime-config.json']);
    expect(Buffer.from(entries[0]!.data).equals(wasm)).toBe(true);
    const config = JSON.parse(blobOf(dir, manifest.config).toString('utf8'));
    expect(config).toMatchObject({ architecture: 'wasm', os: 'wasip1', rootfs: { type: 'layers', diff_ids: [`sha256:${sha(tar)}`] } });
  });

  it('the tarball holds the same layout', () => {
    const entries = readTar(readFileSync(result.tarball));
    expect(entries.map((e) => e.name)).toEqual([...result.layout.files.keys()]);
    for (const e of entries) expect(Buffer.from(e.data).equals(readFileSync(join(dir, e.name))), e.name).toBe(true);
  });

  it('is reproducible byte for byte; SOURCE_DATE_EPOCH changes only what it should', () => {
    const again = packageOci({ wasmPath: WASM, outDir: tmp(), version: '1.2.3' });
    expect(sha(readFileSync(again.tarball))).toBe(sha(readFileSync(result.tarball)));
    expect(again.layout.manifests).toEqual(result.layout.manifests);
    const dated = packageOci({ wasmPath: WASM, outDir: tmp(), version: '1.2.3', sourceDateEpoch: 1_700_000_000 });
    expect(dated.layout.manifests.oci.digest).not.toBe(result.layout.manifests.oci.digest);
    const m = JSON.parse(readFileSync(join(dated.layoutDir, 'blobs/sha256', dated.layout.manifests.oci.digest.slice(7)), 'utf8'));
    expect(m.annotations['org.opencontainers.image.created']).toBe('2023-11-14T22:13:20Z');
    const dated2 = packageOci({ wasmPath: WASM, outDir: tmp(), version: '1.2.3', sourceDateEpoch: 1_700_000_000 });
    expect(sha(readFileSync(dated2.tarball))).toBe(sha(readFileSync(dated.tarball)));
  });

  it('refuses a file that is not a module, and a bad version', () => {
    expect(() => packageOci({ wasmPath: join(ROOT, 'package.json'), outDir: tmp(), version: '1' })).toThrow(/not a WebAssembly module/);
    expect(() => packageOci({ wasmPath: WASM, outDir: tmp(), version: 'bad tag!' })).toThrow(/version/);
    expect(() => packageOci({ wasmPath: join(ROOT, 'nope.wasm'), outDir: tmp(), version: '1' })).toThrow(/cannot read \(ENOENT\)/);
  });

  it('the tar writer is plain ustar: header checksums verify, names and sizes round-trip', () => {
    const t = createTar([{ name: 'a/b.txt', data: new TextEncoder().encode('hello') }], 42);
    expect(t.length).toBe(512 * 4);
    expect(readTar(t)).toEqual([{ name: 'a/b.txt', data: new TextEncoder().encode('hello') }]);
    expect(() => createTar([{ name: '../x', data: new Uint8Array() }])).toThrow(/unsafe/);
  });

  it('the script prints the digests and exits 2 on a missing module', async () => {
    const run = promisify(execFile);
    const o = tmp();
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/package-oci.ts'), '--out', o, '--version', '1.2.3'], { cwd: ROOT });
    expect(stdout).toContain(`manifest ${result.layout.manifests.oci.digest}`);
    expect(stdout).toContain(`module sha256 ${sha(wasm)}`);
    const bad = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/package-oci.ts'), '--wasm', 'nope.wasm', '--out', o], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toMatch(/--wasm .*nope\.wasm: cannot read/);
  }, 30_000);
});
