/**
 * Pure: the compiled filter → an OCI image layout holding it in both Wasm image variants Istio
 * fetches (istio/istio pkg/wasm/imagefetcher.go, solo-io/wasm spec/spec.md and spec-compat.md):
 *
 * - `oci` variant (the Wasm artifact spec): an OCI manifest with exactly two layers, the runtime
 *   config (`application/vnd.module.wasm.config.v1+json`, also the manifest's config) and the raw
 *   module (`application/vnd.module.wasm.content.layer.v1+wasm`). Istio requires the two layers and
 *   takes the one with the content media type as the module.
 * - `compat` variant: an OCI manifest with one `application/vnd.oci.image.layer.v1.tar+gzip` layer
 *   holding `plugin.wasm` (and `runtime-config.json`), config `application/vnd.oci.image.config.v1+json`,
 *   and the manifest annotation `module.wasm.image/variant: compat`. Plain registries and tools
 *   (docker, crane, skopeo) handle it like any image.
 *
 * Both manifests are listed in `index.json` with `org.opencontainers.image.ref.name` = the tag
 * (`<version>` for oci, `<version>-compat` for compat). Everything is deterministic: JSON with
 * fixed key order, tar with fixed mtime/uid/gid/order, gzip with mtime 0.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { createTar } from './deterministic-tar.js';

export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  wasmConfig: 'application/vnd.module.wasm.config.v1+json',
  wasmContent: 'application/vnd.module.wasm.content.layer.v1+wasm',
  imageConfig: 'application/vnd.oci.image.config.v1+json',
  layerTarGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export const VARIANT_ANNOTATION = 'module.wasm.image/variant';

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface WasmImageInput {
  readonly wasm: Uint8Array;
  /** Image version (tag): the oci variant is `<version>`, compat `<version>-compat`. */
  readonly version: string;
  /** proxy-wasm root ids the module registers. */
  readonly rootIds: readonly string[];
  /** Extra `org.opencontainers.image.*` annotations (title, description, licenses, source, created...). */
  readonly annotations: Readonly<Record<string, string>>;
  /** Seconds since the epoch for tar entries (SOURCE_DATE_EPOCH). Defaults to 0. */
  readonly mtime?: number;
}

export interface WasmImageLayout {
  /** Relative path → bytes: `oci-layout`, `index.json`, `blobs/sha256/<hex>`. Ordered by path. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly manifests: { readonly oci: Descriptor; readonly compat: Descriptor };
  /** sha256 of the module itself (what WasmPlugin's `sha256` means for http(s) URLs). */
  readonly wasmSha256: string;
}

const enc = new TextEncoder();
export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const json = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v));

export function buildWasmImageLayout(input: WasmImageInput): WasmImageLayout {
  if (input.wasm.length < 8 || input.wasm[0] !== 0 || input.wasm[1] !== 0x61 || input.wasm[2] !== 0x73 || input.wasm[3] !== 0x6d) {
    throw new Error('wasm: not a WebAssembly module (missing the \\0asm magic)');
  }
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,119}$/.test(input.version)) throw new Error(`version: "${input.version}" is not a valid OCI tag`);
  const blobs = new Map<string, Uint8Array>();
  const add = (mediaType: string, bytes: Uint8Array, annotations?: Record<string, string>): Descriptor => {
    const hex = sha256Hex(bytes);
    blobs.set(`blobs/sha256/${hex}`, bytes);
    return { mediaType, digest: `sha256:${hex}`, size: bytes.length, ...(annotations === undefined ? {} : { annotations }) };
  };

  const runtimeConfig = json({ type: 'envoy_proxy', abiVersions: ['proxy_abi_version_0_2_1'], config: { root_ids: [...input.rootIds] } });
  const title = (t: string) => ({ 'org.opencontainers.image.title': t });

  // oci variant
  const wasmConfigDesc = add(MEDIA_TYPES.wasmConfig, runtimeConfig);
  const ociManifest = json({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: wasmConfigDesc,
    layers: [
      { ...wasmConfigDesc, annotations: title('runtime-config.json') },
      add(MEDIA_TYPES.wasmContent, input.wasm, title('plugin.wasm')),
    ],
    annotations: { ...input.annotations, [VARIANT_ANNOTATION]: 'oci' },
  });

  // compat variant
  const tar = createTar(
    [
      { name: 'plugin.wasm', data: input.wasm },
      { name: 'runtime-config.json', data: runtimeConfig },
    ],
    input.mtime ?? 0,
  );
  const layer = gzipSync(tar, { level: 9 });
  const imageConfig = json({
    architecture: 'wasm',
    os: 'wasip1',
    config: { Labels: { ...input.annotations } },
    rootfs: { type: 'layers', diff_ids: [`sha256:${sha256Hex(tar)}`] },
  });
  const compatManifest = json({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: add(MEDIA_TYPES.imageConfig, imageConfig),
    layers: [add(MEDIA_TYPES.layerTarGzip, layer)],
    annotations: { ...input.annotations, [VARIANT_ANNOTATION]: 'compat' },
  });

  const ref = (tag: string) => ({ 'org.opencontainers.image.ref.name': tag });
  const oci = add(MEDIA_TYPES.manifest, ociManifest, ref(input.version));
  const compat = add(MEDIA_TYPES.manifest, compatManifest, ref(`${input.version}-compat`));
  const index = json({ schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: [oci, compat] });

  const files = new Map<string, Uint8Array>();
  files.set('oci-layout', json({ imageLayoutVersion: '1.0.0' }));
  files.set('index.json', index);
  for (const k of [...blobs.keys()].sort()) files.set(k, blobs.get(k)!);
  return { files, manifests: { oci, compat }, wasmSha256: sha256Hex(input.wasm) };
}

/** The layout as one tar (entries in path order), e.g. for `skopeo copy oci-archive:...`. */
export function layoutTarball(layout: WasmImageLayout, mtime = 0): Uint8Array {
  return createTar([...layout.files].map(([name, data]) => ({ name, data })), mtime);
}
