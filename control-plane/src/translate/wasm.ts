/**
 * DLP policies → the meshward Wasm filter, delivered through ECDS.
 *
 * - One TypedExtensionConfig per DLP policy: `meshward.dlp` (global scope) or `meshward.dlp.<model>`
 *   (model scope). Its typed_config is envoy.extensions.filters.http.wasm.v3.Wasm with a PluginConfig
 *   (root id `meshward`, the policy's JSON as a google.protobuf.StringValue configuration, fail_open
 *   from the failure mode) and a VmConfig (V8, code from a local file or a remote URL + sha256).
 * - Each ECDS resource runs in its own VM (`vm_id` = resource name): scopes never share a root
 *   context, whatever global state the module keeps, at the cost of one VM per scope and worker.
 * - The HCM names the filter with `config_discovery` over ADS, no default config and warming on:
 *   a listener does not take traffic until its DLP config has arrived, and if the config never
 *   arrives Envoy answers 500 for that filter (fail closed), never forwarding unscanned.
 * - Model-scoped filters are `disabled` in the HCM and enabled per route (FilterConfig with an empty
 *   `config`) on that model's routes; the global filter runs on every model route too (scopes add
 *   up: a model policy tightens the global one, it cannot relax it).
 * The global policy's config also carries the model's budgets and model access lists
 * (translate/budget-config.ts).
 * Policy JSON is serialized with sorted keys so equal configs give byte-identical resources.
 */
import { create } from '@bufbuild/protobuf';
import { StringValueSchema, anyPack, type Any } from '@bufbuild/protobuf/wkt';
import { ClusterSchema, Cluster_DiscoveryType, type Cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import { TypedExtensionConfigSchema, type TypedExtensionConfig } from '../gen/envoy/config/core/v3/extension_pb.js';
import { FilterConfigSchema } from '../gen/envoy/config/route/v3/route_components_pb.js';
import { WasmSchema } from '../gen/envoy/extensions/filters/http/wasm/v3/wasm_pb.js';
import {
  HttpFilterSchema,
  type HttpFilter,
} from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { AsyncDataSourceSchema } from '../gen/envoy/config/core/v3/base_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { DlpPolicy } from '../model/dlp-policy.js';
import type { FilterModule } from '../model/filter-module.js';
import type { MeshModel } from '../model/mesh-model.js';
import { filterConfigOf, type BudgetLeaseTarget } from './budget-config.js';
import { ECDS_DLP_GLOBAL, WASM_ROOT_ID, WASM_RUNTIME_V8, ecdsDlpModelName, wasmFetchClusterName } from './names.js';
import { adsConfigSource, ms, packAny, typeUrlOf } from './proto-helpers.js';
import { upstreamPublicTlsSocket } from './tls.js';

/** Default timeout of a remote module fetch. */
export const DEFAULT_WASM_FETCH_TIMEOUT_MS = 30_000;

/** JSON with object keys sorted at every level (deterministic bytes for equal configs). */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The ECDS resource / HTTP filter name of a DLP policy. */
export function dlpFilterName(p: DlpPolicy): string {
  return p.scope.kind === 'global' ? ECDS_DLP_GLOBAL : ecdsDlpModelName(p.scope.model);
}

/** The module a policy runs: its `module`, else the only module, else the one named `default`. */
export function moduleFor(model: MeshModel, p: DlpPolicy): FilterModule {
  const mods = model.filterModules;
  const m =
    p.module !== undefined
      ? mods.find((x) => x.name === p.module)
      : mods.length === 1
        ? mods[0]
        : mods.find((x) => x.name === 'default');
  if (!m) throw new Error(`DLP policy '${p.name}': no filter module to run it (validate the model first)`);
  return m;
}

function codeSource(m: FilterModule): MessageInitShape<typeof AsyncDataSourceSchema> {
  if (m.source.kind === 'local') {
    return { specifier: { case: 'local', value: { specifier: { case: 'filename', value: m.source.path } } } };
  }
  return {
    specifier: {
      case: 'remote',
      value: {
        httpUri: {
          uri: m.source.url,
          httpUpstreamType: { case: 'cluster', value: wasmFetchClusterName(m.name) },
          timeout: ms(m.source.timeoutMs ?? DEFAULT_WASM_FETCH_TIMEOUT_MS),
        },
        sha256: m.sha256 ?? '',
        ...(m.source.retries !== undefined ? { retryPolicy: { numRetries: m.source.retries } } : {}),
      },
    },
  };
}

/** The Wasm filter config (what the ECDS resource packs) for one policy. */
export function wasmFilterConfig(model: MeshModel, p: DlpPolicy, lease?: BudgetLeaseTarget): Any {
  const name = dlpFilterName(p);
  const mod = moduleFor(model, p);
  return packAny(WasmSchema, {
    config: {
      name,
      rootId: WASM_ROOT_ID,
      vm: {
        case: 'vmConfig',
        value: {
          vmId: name,
          runtime: WASM_RUNTIME_V8,
          code: codeSource(mod),
          allowPrecompiled: mod.allowPrecompiled ?? true,
        },
      },
      configuration: anyPack(StringValueSchema, create(StringValueSchema, { value: stableJson(filterConfigOf(model, p, lease)) })),
      failOpen: p.failureMode === 'FAIL_OPEN',
    },
  });
}

/** The ECDS resource (envoy.config.core.v3.TypedExtensionConfig) of one DLP policy. */
export function dlpExtensionConfig(model: MeshModel, p: DlpPolicy, lease?: BudgetLeaseTarget): TypedExtensionConfig {
  return create(TypedExtensionConfigSchema, { name: dlpFilterName(p), typedConfig: wasmFilterConfig(model, p, lease) });
}

/** The HCM filter entry that pulls a DLP policy through ECDS; `disabled` for model scopes. */
export function dlpHttpFilter(p: DlpPolicy): HttpFilter {
  return create(HttpFilterSchema, {
    name: dlpFilterName(p),
    configType: {
      case: 'configDiscovery',
      value: {
        configSource: adsConfigSource(),
        applyDefaultConfigWithoutWarming: false,
        typeUrls: [typeUrlOf(WasmSchema)],
      },
    },
    disabled: p.scope.kind === 'model',
  });
}

/** typed_per_filter_config value enabling a filter that is disabled by default. */
export function enableFilterOnRoute(): Any {
  // `config` present but empty: Envoy's "enable explicitly" form (absent config is a NACK).
  return packAny(FilterConfigSchema, { config: {}, disabled: false });
}

/** typed_per_filter_config value disabling a filter on a route. */
export function disableFilterOnRoute(): Any {
  return packAny(FilterConfigSchema, { disabled: true });
}

/**
 * Cluster through which Envoy downloads a remote module: DNS of the URL's host, TLS with the system
 * roots for https. Only for `remote` modules.
 */
export function wasmFetchCluster(m: FilterModule): Cluster | undefined {
  if (m.source.kind !== 'remote') return undefined;
  const url = new URL(m.source.url);
  const https = url.protocol === 'https:';
  const port = url.port !== '' ? Number(url.port) : https ? 443 : 80;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const name = wasmFetchClusterName(m.name);
  return create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STRICT_DNS },
    connectTimeout: ms(5000),
    loadAssignment: {
      clusterName: name,
      endpoints: [
        {
          lbEndpoints: [
            {
              hostIdentifier: {
                case: 'endpoint',
                value: { address: { address: { case: 'socketAddress', value: { address: host, portSpecifier: { case: 'portValue', value: port } } } } },
              },
            },
          ],
        },
      ],
    },
    ...(https ? { transportSocket: upstreamPublicTlsSocket(host) } : {}),
  });
}
