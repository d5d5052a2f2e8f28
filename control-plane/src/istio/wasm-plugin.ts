/**
 * Pure: a meshward DLP policy + deployment options → an Istio `WasmPlugin` resource
 * (extensions.istio.io/v1alpha1) that runs the meshward filter in the sidecars or gateways the
 * selector picks, configured with the policy's filter config.
 *
 * Choices (documented in docs/istio.md):
 * - `phase` defaults to `STATS`: the filter runs after Istio's authentication and authorization
 *   filters (so a caller the mesh refuses never gets its body buffered and scanned, and the
 *   caller's SPIFFE ID is already proven by mTLS) and before the stats filters (so a blocked
 *   request is counted with the status the filter answered). `AUTHZ` runs it before Istio's RBAC,
 *   useful only to scan traffic that RBAC would deny.
 * - `failStrategy` follows the policy's `failureMode`: `FAIL_CLOSED` → `FAIL_CLOSE` (the proxy
 *   answers 503 when the module cannot be fetched or the VM fails), `FAIL_OPEN` → `FAIL_OPEN`.
 * - `pluginName` is the filter's root id (`meshward`), `type` is `HTTP`.
 * - `pluginConfig` is the policy's config object as is (Istio passes it to the filter as JSON,
 *   exactly as the control plane does over ECDS).
 * - `sha256`: for `oci://` the image manifest digest, for `http(s)://` the module's digest;
 *   required for http(s) (Istio cannot otherwise tell a changed module), optional for `oci://`
 *   (a digest-pinned reference `oci://…@sha256:…` or a tag plus `sha256` are both fine) and
 *   absent for `file://`.
 */
import type { DlpPolicy } from '../model/dlp-policy.js';
import { WASM_ROOT_ID } from '../translate/names.js';

export const WASM_PLUGIN_API_VERSION = 'extensions.istio.io/v1alpha1';
export const WASM_PLUGIN_PHASES = ['AUTHN', 'AUTHZ', 'STATS'] as const;
export type WasmPluginPhase = (typeof WASM_PLUGIN_PHASES)[number];
export const IMAGE_PULL_POLICIES = ['IfNotPresent', 'Always'] as const;
export type ImagePullPolicy = (typeof IMAGE_PULL_POLICIES)[number];

/** The filter's root id (filter/assembly/index.ts registers its root context under it). */
export const MESHWARD_PLUGIN_NAME = WASM_ROOT_ID;
export const DEFAULT_PHASE: WasmPluginPhase = 'STATS';
/** Within a phase, Istio runs higher priorities first. 10 leaves room on both sides. */
export const DEFAULT_PRIORITY = 10;

export interface WasmPluginOptions {
  /** Where proxies fetch the module: `oci://registry/repo:tag` (or `@sha256:…`), `https://…`, `http://…` or `file:///…`. */
  readonly url: string;
  /** 64 lower-case hex characters (see the file comment for what it covers). */
  readonly sha256?: string;
  /** metadata.name. Defaults to `meshward-<policy name>` (dots become dashes). */
  readonly name?: string;
  /** metadata.namespace. Defaults to none (the namespace kubectl applies it to; `istio-system` makes it mesh-wide). */
  readonly namespace?: string;
  /** spec.selector.matchLabels. Defaults to none: every workload of the namespace. */
  readonly selector?: Readonly<Record<string, string>>;
  /** Defaults to {@link DEFAULT_PHASE}. */
  readonly phase?: WasmPluginPhase;
  /** Defaults to {@link DEFAULT_PRIORITY}. */
  readonly priority?: number;
  /** Defaults to `IfNotPresent` (a tag that moves is re-pulled only with `Always`). */
  readonly imagePullPolicy?: ImagePullPolicy;
  /** Name of a Kubernetes Secret (docker registry credentials) in the plugin's namespace. */
  readonly imagePullSecret?: string;
  /** Only traffic to these ports (SERVER side: the inbound model server ports). Defaults to all. */
  readonly ports?: readonly number[];
}

export interface WasmPluginResource {
  readonly apiVersion: typeof WASM_PLUGIN_API_VERSION;
  readonly kind: 'WasmPlugin';
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels: Readonly<Record<string, string>>; readonly annotations: Readonly<Record<string, string>> };
  readonly spec: {
    readonly selector?: { readonly matchLabels: Readonly<Record<string, string>> };
    readonly url: string;
    readonly sha256?: string;
    readonly imagePullPolicy: ImagePullPolicy;
    readonly imagePullSecret?: string;
    readonly pluginName: string;
    readonly phase: WasmPluginPhase;
    readonly priority: number;
    readonly failStrategy: 'FAIL_CLOSE' | 'FAIL_OPEN';
    readonly type: 'HTTP';
    readonly match?: readonly { readonly mode: 'SERVER'; readonly ports: readonly { readonly number: number }[] }[];
    readonly pluginConfig: Readonly<Record<string, unknown>>;
  };
}

/** A bad option: `field` names it (e.g. `sha256`, `selector.app`), `reason` says why. */
export class WasmPluginError extends Error {
  override readonly name = 'WasmPluginError';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const LABEL_VALUE = /^(([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?)$/;

function checkLabelKey(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return 'the prefix must be a DNS subdomain';
  if (!LABEL_NAME.test(name)) return 'must be 1-63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric (Kubernetes label key)';
  return undefined;
}

/** Checks the module URL's scheme and shape; returns the scheme. */
function checkUrl(url: string): 'oci' | 'https' | 'http' | 'file' {
  const m = /^([a-z]+):\/\/(.+)$/.exec(url);
  if (m === null) throw new WasmPluginError('url', `"${url}" must be oci://registry/repo:tag, https://..., http://... or file:///...`);
  const scheme = m[1]!;
  if (scheme !== 'oci' && scheme !== 'https' && scheme !== 'http' && scheme !== 'file') {
    throw new WasmPluginError('url', `scheme "${scheme}" is not one Istio fetches (oci, https, http, file)`);
  }
  if (scheme === 'oci' && !/^[^/\s]+\/[^\s]+$/.test(m[2]!)) throw new WasmPluginError('url', `"${url}" must name a registry and a repository: oci://registry/repo[:tag|@sha256:digest]`);
  if (scheme === 'file' && !m[2]!.startsWith('/')) throw new WasmPluginError('url', `"${url}" must be an absolute path: file:///path/to/meshward.wasm`);
  return scheme;
}

export function buildWasmPlugin(policy: DlpPolicy, options: WasmPluginOptions): WasmPluginResource {
  const scheme = checkUrl(options.url);
  if (options.sha256 !== undefined && !/^[a-f0-9]{64}$/.test(options.sha256)) {
    throw new WasmPluginError('sha256', 'must be 64 lower-case hex characters (without the "sha256:" prefix)');
  }
  if ((scheme === 'https' || scheme === 'http') && options.sha256 === undefined) {
    throw new WasmPluginError('sha256', `required for ${scheme}:// modules: Istio verifies the downloaded module against it`);
  }
  if (scheme === 'file' && options.sha256 !== undefined) throw new WasmPluginError('sha256', 'not used for file:// modules; omit it');
  const ociPinned = scheme === 'oci' && /@sha256:([a-f0-9]{64})$/.exec(options.url);
  if (ociPinned && options.sha256 !== undefined && options.sha256 !== ociPinned[1]) {
    throw new WasmPluginError('sha256', `differs from the digest pinned in url (${ociPinned[1]!})`);
  }
  const name = options.name ?? `meshward-${policy.name.replace(/[._]/g, '-')}`.slice(0, 63).replace(/-+$/, '');
  if (!DNS_LABEL.test(name)) throw new WasmPluginError('name', `"${name}" must be a DNS label (lower-case alphanumerics and "-", at most 63)`);
  if (options.namespace !== undefined && !DNS_LABEL.test(options.namespace)) {
    throw new WasmPluginError('namespace', `"${options.namespace}" must be a DNS label (lower-case alphanumerics and "-", at most 63)`);
  }
  const phase = options.phase ?? DEFAULT_PHASE;
  if (!WASM_PLUGIN_PHASES.includes(phase)) throw new WasmPluginError('phase', `must be one of ${WASM_PLUGIN_PHASES.join(', ')}, got "${String(phase)}"`);
  const priority = options.priority ?? DEFAULT_PRIORITY;
  if (!Number.isInteger(priority) || priority < -2147483648 || priority > 2147483647) throw new WasmPluginError('priority', `must be a 32-bit integer, got ${priority}`);
  const imagePullPolicy = options.imagePullPolicy ?? 'IfNotPresent';
  if (!IMAGE_PULL_POLICIES.includes(imagePullPolicy)) {
    throw new WasmPluginError('imagePullPolicy', `must be one of ${IMAGE_PULL_POLICIES.join(', ')}, got "${String(imagePullPolicy)}"`);
  }
  if (options.imagePullSecret !== undefined && (options.imagePullSecret.length > 253 || !DNS_SUBDOMAIN.test(options.imagePullSecret))) {
    throw new WasmPluginError('imagePullSecret', `"${options.imagePullSecret}" must be the name of a Secret (DNS subdomain, at most 253)`);
  }
  if (options.selector !== undefined) {
    for (const [k, v] of Object.entries(options.selector)) {
      const bad = checkLabelKey(k);
      if (bad !== undefined) throw new WasmPluginError(`selector.${k}`, bad);
      if (!LABEL_VALUE.test(v)) throw new WasmPluginError(`selector.${k}`, `value "${v}" must be at most 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric`);
    }
  }
  const ports = options.ports ?? [];
  for (const p of ports) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new WasmPluginError('ports', `${p} is not a port (1-65535)`);
  if (new Set(ports).size !== ports.length) throw new WasmPluginError('ports', 'lists a port twice');

  const failStrategy = (policy.failureMode ?? 'FAIL_CLOSED') === 'FAIL_OPEN' ? 'FAIL_OPEN' : 'FAIL_CLOSE';
  return {
    apiVersion: WASM_PLUGIN_API_VERSION,
    kind: 'WasmPlugin',
    metadata: {
      name,
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
      labels: { 'app.kubernetes.io/name': 'meshward', 'app.kubernetes.io/component': 'dlp-filter', 'app.kubernetes.io/managed-by': 'meshward' },
      annotations: {
        'meshward.io/dlp-policy': policy.name,
        'meshward.io/scope': policy.scope.kind === 'model' ? `model:${policy.scope.model}` : 'global',
      },
    },
    spec: {
      ...(options.selector === undefined || Object.keys(options.selector).length === 0 ? {} : { selector: { matchLabels: { ...options.selector } } }),
      url: options.url,
      ...(options.sha256 === undefined ? {} : { sha256: options.sha256 }),
      imagePullPolicy,
      ...(options.imagePullSecret === undefined ? {} : { imagePullSecret: options.imagePullSecret }),
      pluginName: MESHWARD_PLUGIN_NAME,
      phase,
      priority,
      failStrategy,
      type: 'HTTP',
      ...(ports.length === 0 ? {} : { match: [{ mode: 'SERVER' as const, ports: ports.map((number) => ({ number })) }] }),
      pluginConfig: policy.config,
    },
  };
}
