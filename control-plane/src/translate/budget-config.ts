/**
 * Budgets and model access lists → the meshward filter's `budgets` and `model_access` config
 * sections (filter/config.schema.json), merged into the global DLP policy's configuration, which
 * reaches every proxy through ECDS (`meshward.dlp`). Pure; sorted by name so equal models give
 * byte-identical configs.
 *
 * Route scoping: the filter reads Envoy's `xds.route_name`; translate names a model's routes
 * `<model>|<kind>|<i>` (routes.ts), so a budget's `routes: ["chat"]` becomes `"routes": ["chat"]`
 * and the filter matches a route name equal to it or starting with `chat|`.
 */
import { isIP } from 'node:net';
import { create } from '@bufbuild/protobuf';
import { ClusterSchema, Cluster_DiscoveryType, type Cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Budget, ModelAccessList } from '../model/budget.js';
import type { DlpPolicy } from '../model/dlp-policy.js';
import type { MeshModel } from '../model/mesh-model.js';
import { ms } from './proto-helpers.js';
import { upstreamMtlsSocket } from './tls.js';

/** Where proxies ask for budget leases (the fleet bound); absent: each proxy enforces alone. */
export interface BudgetLeaseTarget {
  /** Envoy cluster of the control plane's lease endpoint (in the bootstrap or translated). */
  readonly cluster: string;
  /** :authority of lease calls. */
  readonly authority: string;
  /** Defaults to `/v1/budget-leases`. */
  readonly path?: string;
  /** Tokens asked per lease (a fraction of the budget). Defaults to the filter's default. */
  readonly leaseTokens?: number;
  /** `authorization` header of lease calls. */
  readonly authorization?: string;
  /**
   * Idle time (ms) after which a proxy gives its unspent grant back (`release_after_ms`: 0 or
   * 1000..3600000; 0 = never). Absent: the filter's default (30000).
   */
  readonly releaseAfterMs?: number;
}

const byName = <T extends { readonly name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The filter's form of one budget (snake_case, defaults left to the filter). */
export function filterBudgetLimit(b: Budget): Record<string, unknown> {
  const out: Record<string, unknown> = { name: b.name, principals: [...b.principals], tokens: b.tokens, window: b.window };
  if (b.models !== undefined) out['models'] = [...b.models];
  if (b.routes !== undefined) out['routes'] = [...b.routes];
  if (b.shared !== undefined) out['shared'] = b.shared;
  if (b.onExceed !== undefined) out['on_exceed'] = b.onExceed;
  if (b.minOutputTokens !== undefined) out['min_output_tokens'] = b.minOutputTokens;
  if (b.dryRun !== undefined) out['dry_run'] = b.dryRun;
  if (b.costs !== undefined) {
    out['costs'] = b.costs.map((c) => {
      const w: Record<string, unknown> = { model: c.model };
      if (c.input !== undefined) w['input'] = c.input;
      if (c.cachedInput !== undefined) w['cached_input'] = c.cachedInput;
      if (c.output !== undefined) w['output'] = c.output;
      return w;
    });
  }
  return out;
}

/** The filter's form of one access list. */
export function filterAccessList(l: ModelAccessList): Record<string, unknown> {
  return { name: l.name, principals: [...l.principals], models: [...l.models] };
}

/**
 * The sections to add to the global policy's config: `budgets` when the model has budgets,
 * `model_access` when it has access lists. Sections the operator wrote in the policy's own config
 * are kept when the model has none (so a hand-written filter config keeps working).
 */
export function budgetConfigSections(model: MeshModel, lease?: BudgetLeaseTarget): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const budgets = [...(model.budgets ?? [])].sort(byName);
  const lists = [...(model.modelAccessLists ?? [])].sort(byName);
  if (budgets.length > 0) {
    const section: Record<string, unknown> = { limits: budgets.map(filterBudgetLimit) };
    if (lease !== undefined) {
      const l: Record<string, unknown> = { cluster: lease.cluster, authority: lease.authority };
      if (lease.path !== undefined) l['path'] = lease.path;
      if (lease.leaseTokens !== undefined) l['tokens'] = lease.leaseTokens;
      if (lease.authorization !== undefined) l['authorization'] = lease.authorization;
      if (lease.releaseAfterMs !== undefined) l['release_after_ms'] = lease.releaseAfterMs;
      section['lease'] = l;
    }
    out['budgets'] = section;
  }
  if (lists.length > 0) out['model_access'] = { lists: lists.map(filterAccessList) };
  return out;
}

/** The configuration a DLP policy's filter runs with: its own config, plus budgets/access for the global scope. */
export function filterConfigOf(model: MeshModel, p: DlpPolicy, lease?: BudgetLeaseTarget): Record<string, unknown> {
  if (p.scope.kind !== 'global') return { ...p.config };
  return { ...p.config, ...budgetConfigSections(model, lease) };
}

/** The Envoy cluster through which proxies reach the lease service. */
export const BUDGET_LEASE_CLUSTER = 'meshward_budget_leases';

/**
 * Where the control plane serves `POST /v1/budget-leases` (its REST API), as the controller knows
 * it from its settings. Translate turns it into a cluster and the filter's `budgets.lease`.
 */
export interface BudgetLeaseEndpoint {
  /** IP literal or DNS name of the REST API. */
  readonly address: string;
  readonly port: number;
  /** `mtls`: mesh mTLS (the API's clientCa is the mesh trust bundle); `plaintext` for tests. Defaults to `mtls`. */
  readonly tls?: 'mtls' | 'plaintext';
  /** SPIFFE ID the API presents (checked when `tls` is `mtls`); absent: any identity of the trust domain. */
  readonly identity?: string;
  /** `authorization` header value (a proxy-role token: it may only call POST /v1/budget-leases) the proxies send; absent: none. */
  readonly authorization?: string;
  /** Tokens asked per lease; absent: the filter's default (a quarter of the budget). */
  readonly leaseTokens?: number;
  /** See {@link BudgetLeaseTarget.releaseAfterMs}; absent: the filter's default (30 s). */
  readonly releaseAfterMs?: number;
}

/** The lease target the filter config names, for an endpoint. */
export function budgetLeaseTarget(e: BudgetLeaseEndpoint): BudgetLeaseTarget {
  return {
    cluster: BUDGET_LEASE_CLUSTER,
    authority: e.address,
    ...(e.leaseTokens !== undefined ? { leaseTokens: e.leaseTokens } : {}),
    ...(e.releaseAfterMs !== undefined ? { releaseAfterMs: e.releaseAfterMs } : {}),
    ...(e.authorization !== undefined ? { authorization: e.authorization } : {}),
  };
}

/** STRICT_DNS (or STATIC for an IP) cluster of the lease endpoint, mesh mTLS unless `plaintext`. */
export function budgetLeaseCluster(e: BudgetLeaseEndpoint, trustDomain: string): Cluster {
  const ip = isIP(e.address) !== 0;
  return create(ClusterSchema, {
    name: BUDGET_LEASE_CLUSTER,
    clusterDiscoveryType: { case: 'type', value: ip ? Cluster_DiscoveryType.STATIC : Cluster_DiscoveryType.STRICT_DNS },
    connectTimeout: ms(2000),
    loadAssignment: {
      clusterName: BUDGET_LEASE_CLUSTER,
      endpoints: [
        {
          lbEndpoints: [
            {
              hostIdentifier: {
                case: 'endpoint',
                value: { address: { address: { case: 'socketAddress', value: { address: e.address, portSpecifier: { case: 'portValue', value: e.port } } } } },
              },
            },
          ],
        },
      ],
    },
    ...((e.tls ?? 'mtls') === 'mtls'
      ? {
          transportSocket: upstreamMtlsSocket(
            e.identity !== undefined ? { kind: 'exact', spiffeIds: [e.identity] } : { kind: 'trustDomain', trustDomain },
            false,
            ip ? undefined : e.address,
          ),
        }
      : {}),
  });
}
