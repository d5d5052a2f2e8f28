/**
 * The WasmPlugin builder and the shipped example (envoy/istio/wasm-plugin.yaml) against Istio's
 * CRD schema, two ways:
 * - the validation @kubernetes-models/istio ships (`WasmPlugin#validate()`, generated from Istio's
 *   CRD at the version that package tracks — it predates failStrategy/type/targetRefs);
 * - a strict schema written from the current published CRD (istio/istio
 *   manifests/charts/base/files/crd-all.gen.yaml, wasmplugins.extensions.istio.io v1alpha1,
 *   checked at commit 86c9f01f): the field set (no unknown spec fields), enums, sha256 pattern,
 *   int32 priority, url schemes, label key/value rules, one of selector/targetRef(s).
 * The pluginConfig must also start the real compiled filter.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { WasmPlugin } from '@kubernetes-models/istio/extensions.istio.io/v1alpha1/WasmPlugin';
import { buildWasmPlugin, WasmPluginError, type WasmPluginOptions } from '../../../control-plane/src/istio/wasm-plugin.js';
import type { DlpPolicy } from '../../../control-plane/src/model/dlp-policy.js';
import { createEnvoyHost } from '../../host/index.js';

const labelValue = { type: 'string', maxLength: 63, not: { pattern: '\\*' } };
const targetRef = {
  type: 'object',
  required: ['kind', 'name'],
  additionalProperties: false,
  properties: {
    group: { type: 'string', maxLength: 253, pattern: '^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' },
    kind: { type: 'string', minLength: 1, maxLength: 63, pattern: '^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$' },
    name: { type: 'string', minLength: 1, maxLength: 253 },
    namespace: { type: 'string', maxLength: 0 },
  },
};
/** Written from the published CRD's openAPIV3Schema + x-kubernetes-validations (see the file comment). */
const STRICT_SCHEMA = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'extensions.istio.io/v1alpha1' },
    kind: { const: 'WasmPlugin' },
    metadata: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' },
        namespace: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' },
        labels: { type: 'object', additionalProperties: { type: 'string', maxLength: 63 } },
        annotations: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    spec: {
      type: 'object',
      required: ['url'],
      additionalProperties: false,
      properties: {
        failStrategy: { enum: ['FAIL_CLOSE', 'FAIL_OPEN', 'FAIL_RELOAD'] },
        imagePullPolicy: { enum: ['UNSPECIFIED_POLICY', 'IfNotPresent', 'Always'] },
        imagePullSecret: { type: 'string', minLength: 1, maxLength: 253 },
        match: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            properties: {
              mode: { enum: ['UNDEFINED', 'CLIENT', 'SERVER', 'CLIENT_AND_SERVER'] },
              ports: { type: 'array', items: { type: 'object', required: ['number'], additionalProperties: false, properties: { number: { type: 'integer', minimum: 1, maximum: 65535 } } } },
            },
          },
        },
        phase: { enum: ['UNSPECIFIED_PHASE', 'AUTHN', 'AUTHZ', 'STATS'] },
        pluginConfig: { type: 'object' },
        pluginName: { type: 'string', minLength: 1, maxLength: 256 },
        priority: { type: 'integer', minimum: -2147483648, maximum: 2147483647 },
        selector: {
          type: 'object',
          additionalProperties: false,
          properties: {
            matchLabels: { type: 'object', maxProperties: 4096, propertyNames: { minLength: 1, not: { pattern: '\\*' } }, additionalProperties: labelValue },
          },
        },
        sha256: { type: 'string', pattern: '(^$|^[a-f0-9]{64}$)' },
        targetRef,
        targetRefs: { type: 'array', maxItems: 16, items: targetRef },
        type: { enum: ['UNSPECIFIED_PLUGIN_TYPE', 'HTTP', 'NETWORK'] },
        url: { type: 'string', minLength: 1, pattern: '^((https?|oci|file)://|[^:]+$)' },
        verificationKey: { type: 'string' },
        vmConfig: { type: 'object' },
      },
      not: { anyOf: [{ required: ['selector', 'targetRef'] }, { required: ['selector', 'targetRefs'] }, { required: ['targetRef', 'targetRefs'] }] },
    },
  },
};
const strict = new Ajv({ allErrors: true, strict: false }).compile(STRICT_SCHEMA);

function expectValidIstio(resource: unknown): void {
  expect(() => new WasmPlugin(resource as ConstructorParameters<typeof WasmPlugin>[0]).validate()).not.toThrow();
  const ok = strict(resource);
  expect(strict.errors ?? [], JSON.stringify(strict.errors)).toEqual([]);
  expect(ok).toBe(true);
}

const WASM = fileURLToPath(new URL('../../../filter/build/meshward.wasm', import.meta.url));

async function expectFilterAccepts(config: unknown): Promise<void> {
  const host = await createEnvoyHost({ wasm: new Uint8Array(readFileSync(WASM)), pluginConfig: JSON.stringify(config) });
  host.shutdown();
}

const policy: DlpPolicy = { name: 'global', scope: { kind: 'global' }, config: { detectors: { email: 'redact', credit_card: 'block' } } };
const OCI = 'oci://ghcr.io/acme/meshward-filter:0.1.0';
const DIGEST = '0123456789abcdef'.repeat(4);

describe('buildWasmPlugin', () => {
  it('defaults: phase STATS, priority 10, FAIL_CLOSE, IfNotPresent, pluginName meshward, type HTTP, config verbatim', async () => {
    const wp = buildWasmPlugin(policy, { url: OCI });
    expect(wp).toEqual({
      apiVersion: 'extensions.istio.io/v1alpha1',
      kind: 'WasmPlugin',
      metadata: {
        name: 'meshward-global',
        labels: { 'app.kubernetes.io/name': 'meshward', 'app.kubernetes.io/component': 'dlp-filter', 'app.kubernetes.io/managed-by': 'meshward' },
        annotations: { 'meshward.io/dlp-policy': 'global', 'meshward.io/scope': 'global' },
      },
      spec: { url: OCI, imagePullPolicy: 'IfNotPresent', pluginName: 'meshward', phase: 'STATS', priority: 10, failStrategy: 'FAIL_CLOSE', type: 'HTTP', pluginConfig: policy.config },
    });
    expectValidIstio(wp);
    await expectFilterAccepts(wp.spec.pluginConfig);
  });

  it.each<[string, DlpPolicy, WasmPluginOptions]>([
    ['every option', { ...policy, failureMode: 'FAIL_OPEN', scope: { kind: 'model', model: 'chat' } }, {
      url: OCI, sha256: DIGEST, name: 'dlp', namespace: 'ai', selector: { app: 'chat', 'example.com/tier': 'model' }, phase: 'AUTHZ', priority: -5,
      imagePullPolicy: 'Always', imagePullSecret: 'ghcr-pull', ports: [8000, 8001],
    }],
    ['https with sha256', policy, { url: 'https://example.com/meshward.wasm', sha256: DIGEST }],
    ['digest-pinned oci', policy, { url: `oci://ghcr.io/acme/meshward-filter@sha256:${DIGEST}`, sha256: DIGEST }],
    ['file', policy, { url: 'file:///var/lib/meshward/meshward.wasm', phase: 'AUTHN' }],
  ])('%s: valid against Istio\'s CRD', (_name, p, options) => {
    const wp = buildWasmPlugin(p, options);
    expectValidIstio(wp);
    if (p.failureMode === 'FAIL_OPEN') expect(wp.spec.failStrategy).toBe('FAIL_OPEN');
    if (options.ports !== undefined) expect(wp.spec.match).toEqual([{ mode: 'SERVER', ports: [{ number: 8000 }, { number: 8001 }] }]);
  });

  it.each<[string, Partial<WasmPluginOptions>, string]>([
    ['no scheme', { url: 'ghcr.io/x' }, 'url'],
    ['ftp', { url: 'ftp://x/y' }, 'url'],
    ['oci without repo', { url: 'oci://ghcr.io' }, 'url'],
    ['relative file', { url: 'file://meshward.wasm' }, 'url'],
    ['https without sha256', { url: 'https://x/y.wasm' }, 'sha256'],
    ['short sha256', { sha256: 'abc' }, 'sha256'],
    ['prefixed sha256', { sha256: `sha256:${DIGEST}` }, 'sha256'],
    ['pinned digest mismatch', { url: `oci://r/x@sha256:${DIGEST}`, sha256: 'f'.repeat(64) }, 'sha256'],
    ['file with sha256', { url: 'file:///m.wasm', sha256: DIGEST }, 'sha256'],
    ['bad name', { name: 'Mesh_Ward' }, 'name'],
    ['bad namespace', { namespace: 'AI' }, 'namespace'],
    ['bad phase', { phase: 'LATE' as never }, 'phase'],
    ['priority too big', { priority: 2 ** 31 }, 'priority'],
    ['bad pull policy', { imagePullPolicy: 'Never' as never }, 'imagePullPolicy'],
    ['bad selector key', { selector: { 'bad key': 'x' } }, 'selector.bad key'],
    ['wildcard selector value', { selector: { app: 'chat*' } }, 'selector.app'],
    ['bad port', { ports: [0] }, 'ports'],
    ['duplicate port', { ports: [80, 80] }, 'ports'],
  ])('refuses %s naming the field', (_name, bad, field) => {
    let err: unknown;
    try {
      buildWasmPlugin(policy, { url: OCI, ...bad } as WasmPluginOptions);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WasmPluginError);
    expect((err as WasmPluginError).field).toBe(field);
  });

  it('the strict schema is not vacuous: it refuses what Istio refuses', () => {
    const wp = buildWasmPlugin(policy, { url: OCI }) as unknown as { spec: Record<string, unknown> };
    for (const bad of [{ failStrategy: 'FAIL_SOMETIMES' }, { sha256: 'xyz' }, { priority: 1.5 }, { urll: OCI }, { targetRefs: [{ kind: 'Gateway', name: 'g' }], selector: { matchLabels: { a: 'b' } } }]) {
      expect(strict({ ...wp, spec: { ...wp.spec, ...bad } }), JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('envoy/istio/wasm-plugin.yaml', () => {
  const file = fileURLToPath(new URL('../../../envoy/istio/wasm-plugin.yaml', import.meta.url));
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const resources = (Array.isArray(docs) ? docs : [docs]).map((d) => d.toJS() as { kind: string; spec: { pluginConfig: unknown } }).filter((d) => d !== null);

  it('holds two WasmPlugins, valid against Istio\'s CRD, whose config the real filter accepts', async () => {
    expect(resources.map((r) => r.kind)).toEqual(['WasmPlugin', 'WasmPlugin']);
    for (const r of resources) {
      expectValidIstio(r);
      await expectFilterAccepts(r.spec.pluginConfig);
    }
  });

  it('matches what the builder emits for the same inputs (the example stays in step with the code)', () => {
    const first = resources[0] as unknown as { metadata: { name: string; namespace: string }; spec: Record<string, unknown> };
    const built = buildWasmPlugin(
      { name: 'x', scope: { kind: 'global' }, config: first.spec['pluginConfig'] as Record<string, unknown> },
      { url: first.spec['url'] as string, namespace: 'ai', selector: { app: 'chat' }, ports: [8000] },
    );
    expect(first.spec).toEqual(built.spec);
  });
});
