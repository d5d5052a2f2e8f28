/**
 * The translation entry point: a validated mesh model and a node group in, one consistent set of
 * Envoy resources out. Pure (no I/O, no clock: the caller passes `now`, which only decides which
 * time-windowed authorization rules are in). Same inputs, byte-identical outputs.
 *
 * Node groups: every node of a group gets the same resources, so a group is one workload (its
 * replicas share identity and config). A group names its workload (`<namespace>/<name>`, from node
 * metadata `meshward.workload`) or, failing that, is matched by role and labels: the single workload
 * of that role whose labels are all present in the group's labels.
 */
import type { Cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import type { TypedExtensionConfig } from '../gen/envoy/config/core/v3/extension_pb.js';
import type { ClusterLoadAssignment } from '../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { Listener } from '../gen/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '../gen/envoy/config/route/v3/route_pb.js';
import type { HttpFilter } from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { DlpPolicy } from '../model/dlp-policy.js';
import type { MeshModel } from '../model/mesh-model.js';
import type { ModelService } from '../model/model-service.js';
import { validateMeshModel } from '../model/validate-mesh-model.js';
import { ModelValidationError } from '../model/validation-issue.js';
import {
  DEFAULT_APP_PORT,
  DEFAULT_GATEWAY_PORT,
  DEFAULT_SIDECAR_PORT,
  resolveMtlsMode,
  workloadKey,
  type Workload,
  type WorkloadRole,
} from '../model/workload.js';
import { isIP } from 'node:net';
import { localAppCluster, usesEds, versionCluster, versionLoadAssignment } from './clusters.js';
import { httpConnectionManager, localRateLimitHttpFilter, rbacHttpFilter, routerHttpFilter } from './http-connection-manager.js';
import { inboundListener } from './listeners.js';
import {
  SECRET_TRUST_BUNDLE,
  SECRET_WORKLOAD_CERT,
  STAT_PREFIX_GATEWAY,
  STAT_PREFIX_INBOUND,
  gatewayListenerName,
  sidecarListenerName,
} from './names.js';
import { grpcServerListener, proxylessClientListener } from './proxyless.js';
import { translateRbac } from './rbac.js';
import { gatewayRouteConfiguration, grpcServerRouteConfiguration, proxylessRouteConfiguration, sidecarRouteConfiguration } from './routes.js';
import { TranslateError } from './translate-error.js';
import type { TranslatedResources } from './translated-resources.js';
import { dlpExtensionConfig, dlpHttpFilter, moduleFor, wasmFetchCluster } from './wasm.js';
import { budgetLeaseCluster, budgetLeaseTarget, type BudgetLeaseEndpoint } from './budget-config.js';

/** A set of nodes served the same resources (see the module comment for how a workload is found). */
export interface NodeGroup {
  readonly role: WorkloadRole;
  /** `<namespace>/<name>` of the workload; takes precedence over labels. */
  readonly workload?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface TranslateOptions {
  /** The instant time windows are evaluated at. */
  readonly now: Date;
  /**
   * Skip validateMeshModel (the caller just ran it on this exact model). Defaults to false: an
   * invalid model throws ModelValidationError.
   */
  readonly validated?: boolean;
  /**
   * Proxyless servers: put the RBAC filter in the server listener. Defaults to true (grpc-js then
   * needs GRPC_XDS_EXPERIMENTAL_RBAC=true, or it rejects the listener).
   */
  readonly proxylessRbac?: boolean;
  /**
   * Where proxies ask for token-budget leases (the fleet bound, docs/budgets.md). Absent: each
   * proxy enforces budgets alone (the fleet may spend up to N × a budget).
   */
  readonly budgetLeases?: BudgetLeaseEndpoint;
}

/** The workload a node group is served as, or a TranslateError saying why there is none. */
export function resolveWorkload(model: MeshModel, group: NodeGroup): Workload {
  if (group.workload !== undefined) {
    const w = model.workloads.find((x) => workloadKey(x) === group.workload);
    if (!w) throw new TranslateError('NO_WORKLOAD', `workload "${group.workload}"`, 'does not exist');
    if (w.role !== group.role) throw new TranslateError('ROLE_MISMATCH', `workload "${group.workload}"`, `has role ${w.role}, the node says ${group.role}`);
    return w;
  }
  const labels = group.labels ?? {};
  const candidates = model.workloads.filter(
    (w) => w.role === group.role && Object.entries(w.labels ?? {}).every(([k, v]) => labels[k] === v),
  );
  if (candidates.length !== 1) {
    throw new TranslateError(
      'NO_WORKLOAD',
      `node group role=${group.role} labels=${JSON.stringify(labels)}`,
      candidates.length === 0 ? 'matches no workload' : `matches ${candidates.length} workloads (${candidates.map(workloadKey).join(', ')}); name one in node metadata`,
    );
  }
  return candidates[0]!;
}

function exposedModels(model: MeshModel, w: Workload): ModelService[] {
  return w.models === undefined ? [...model.models] : model.models.filter((m) => w.models!.includes(m.name));
}

/** DLP policies that apply to a listener serving `models`: the global one plus those models' ones. */
function dlpPoliciesFor(model: MeshModel, models: readonly string[]): DlpPolicy[] {
  const global = model.dlpPolicies.filter((p) => p.scope.kind === 'global');
  const scoped = model.dlpPolicies
    .filter((p) => p.scope.kind === 'model' && models.includes(p.scope.model))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [...global, ...scoped];
}

function byName<T>(items: readonly T[], name: (t: T) => string): T[] {
  return [...items].sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
}

class Collector {
  readonly listeners: Listener[] = [];
  readonly routes: RouteConfiguration[] = [];
  readonly clusters = new Map<string, Cluster>();
  readonly endpoints = new Map<string, ClusterLoadAssignment>();
  readonly extensionConfigs: TypedExtensionConfig[] = [];
  readonly secrets = new Set<string>();
  /** TranslateOptions.budgetLeases. */
  budgetLeases: BudgetLeaseEndpoint | undefined = undefined;

  addModelClusters(model: MeshModel, svc: ModelService, proxyless: boolean): void {
    svc.versions.forEach((v, i) => {
      if (proxyless && !usesEds(v)) {
        const bad = v.endpoints.find((e) => isIP(e.address) === 0)!;
        throw new TranslateError('UNSUPPORTED', `model "${svc.name}" versions[${i}]`, `proxyless gRPC clients need IP endpoints, got hostname '${bad.address}'`);
      }
      const c = versionCluster(model, svc, v, { tls: !proxyless, edsOnly: proxyless });
      this.clusters.set(c.name, c);
      if (c.clusterDiscoveryType.case === 'type' && c.edsClusterConfig) this.endpoints.set(c.name, versionLoadAssignment(svc, v));
      if (!proxyless && (v.upstreamTls ?? 'MUTUAL') === 'MUTUAL') {
        this.secrets.add(SECRET_WORKLOAD_CERT);
        this.secrets.add(SECRET_TRUST_BUNDLE);
      }
    });
  }

  addDlp(model: MeshModel, policies: readonly DlpPolicy[]): HttpFilter[] {
    const leases = this.budgetLeases;
    if (leases !== undefined && (model.budgets ?? []).length > 0 && policies.some((p) => p.scope.kind === 'global')) {
      const c = budgetLeaseCluster(leases, model.mesh.trustDomain);
      this.clusters.set(c.name, c);
      if ((leases.tls ?? 'mtls') === 'mtls') {
        this.secrets.add(SECRET_WORKLOAD_CERT);
        this.secrets.add(SECRET_TRUST_BUNDLE);
      }
    }
    return policies.map((p) => {
      this.extensionConfigs.push(dlpExtensionConfig(model, p, leases === undefined ? undefined : budgetLeaseTarget(leases)));
      const fetch = wasmFetchCluster(moduleFor(model, p));
      if (fetch) this.clusters.set(fetch.name, fetch);
      return dlpHttpFilter(p);
    });
  }

  result(): TranslatedResources {
    return {
      listeners: byName(this.listeners, (l) => l.name),
      routes: byName(this.routes, (r) => r.name),
      clusters: byName([...this.clusters.values()], (c) => c.name),
      endpoints: byName([...this.endpoints.values()], (e) => e.clusterName),
      extensionConfigs: byName(this.extensionConfigs, (e) => e.name),
      secretNames: [...this.secrets].sort(),
    };
  }
}

/** RBAC → local rate limit (only when a served model is limited) → DLP filters → router. */
function envoyFilterChain(model: MeshModel, served: readonly string[], rbacHttp: HttpFilter, dlpFilters: readonly HttpFilter[]): HttpFilter[] {
  const filters: HttpFilter[] = [rbacHttp];
  if (model.rateLimits.some((r) => served.includes(r.model))) filters.push(localRateLimitHttpFilter());
  filters.push(...dlpFilters, routerHttpFilter());
  return filters;
}

/** What differs between the gateway's and the sidecar's inbound listener. */
interface InboundListenerOptions {
  readonly name: string;
  readonly port: number;
  readonly statPrefix: string;
  /** Models served behind the listener (a local rate limit filter is added when one is limited). */
  readonly served: readonly string[];
  readonly rbacHttp: HttpFilter;
  readonly dlpFilters: readonly HttpFilter[];
  /** True on the gateway (the edge): the client address is the connection's peer. */
  readonly useRemoteAddress: boolean;
}

/**
 * Adds a workload's inbound listener (the workload's listener address, default 0.0.0.0; mTLS mode
 * resolved from mesh and workload; HCM with the filter chain of {@link envoyFilterChain}, route
 * configuration named like the listener) and the workload certificate and trust bundle it uses.
 * Access logging (`mesh.accessLog.enabled`, default on) switches both the HCM's HTTP log and the
 * listener-level connection log that records refused TLS handshakes.
 */
function addInboundListener(out: Collector, model: MeshModel, w: Workload, o: InboundListenerOptions): void {
  const accessLog = model.mesh.accessLog?.enabled !== false;
  out.listeners.push(
    inboundListener({
      name: o.name,
      address: w.listener?.address ?? '0.0.0.0',
      port: o.port,
      mtlsMode: resolveMtlsMode(model.mesh, w),
      trustDomain: model.mesh.trustDomain,
      accessLog,
      hcm: httpConnectionManager({
        statPrefix: o.statPrefix,
        routeConfigName: o.name,
        httpFilters: envoyFilterChain(model, o.served, o.rbacHttp, o.dlpFilters),
        accessLog,
        useRemoteAddress: o.useRemoteAddress,
      }),
    }),
  );
  out.secrets.add(SECRET_WORKLOAD_CERT);
  out.secrets.add(SECRET_TRUST_BUNDLE);
}

function translateGateway(model: MeshModel, w: Workload, now: Date, leases?: BudgetLeaseEndpoint): TranslatedResources {
  const out = new Collector();
  out.budgetLeases = leases;
  const services = exposedModels(model, w);
  const port = w.listener?.port ?? DEFAULT_GATEWAY_PORT;
  const name = gatewayListenerName(port);
  for (const svc of services) out.addModelClusters(model, svc, false);
  const dlpFilters = out.addDlp(model, dlpPoliciesFor(model, services.map((s) => s.name)));
  const rbac = translateRbac(model, { kind: 'gateway', workload: w }, now);
  out.routes.push(gatewayRouteConfiguration(name, { model, services }));
  addInboundListener(out, model, w, { name, port, statPrefix: STAT_PREFIX_GATEWAY, served: services.map((s) => s.name), rbacHttp: rbacHttpFilter(rbac), dlpFilters, useRemoteAddress: true });
  return out.result();
}

function servedModel(model: MeshModel, w: Workload): ModelService {
  const svc = w.serves ? model.models.find((m) => m.name === w.serves!.model) : undefined;
  if (!svc) throw new TranslateError('UNSUPPORTED', `workload "${workloadKey(w)}"`, 'serves no existing model');
  return svc;
}

function translateSidecar(model: MeshModel, w: Workload, now: Date, leases?: BudgetLeaseEndpoint): TranslatedResources {
  const out = new Collector();
  out.budgetLeases = leases;
  const svc = servedModel(model, w);
  const appPort = w.serves?.appPort ?? DEFAULT_APP_PORT;
  const port = w.listener?.port ?? DEFAULT_SIDECAR_PORT;
  const name = sidecarListenerName(port);
  const app = localAppCluster(svc, appPort);
  out.clusters.set(app.name, app);
  const dlpFilters = out.addDlp(model, dlpPoliciesFor(model, [svc.name]));
  const rbac = translateRbac(model, { kind: 'server', workload: w, model: svc.name }, now);
  out.routes.push(sidecarRouteConfiguration(name, model, svc, appPort));
  addInboundListener(out, model, w, { name, port, statPrefix: STAT_PREFIX_INBOUND, served: [svc.name], rbacHttp: rbacHttpFilter(rbac), dlpFilters, useRemoteAddress: false });
  return out.result();
}

function translateProxyless(model: MeshModel, w: Workload, now: Date, withRbac: boolean): TranslatedResources {
  const out = new Collector();
  // Without an explicit list, models a gRPC client cannot resolve (hostname endpoints) are left out;
  // an explicit list naming one is a validation error.
  const services = w.models === undefined ? model.models.filter((m) => m.versions.every(usesEds)) : exposedModels(model, w);
  for (const svc of services) {
    out.listeners.push(proxylessClientListener(svc.name));
    out.routes.push(proxylessRouteConfiguration(svc));
    out.addModelClusters(model, svc, true);
  }
  if (w.serves) {
    const svc = servedModel(model, w);
    const address = w.listener?.address ?? '0.0.0.0';
    const port = w.listener?.port;
    if (port === undefined) throw new TranslateError('UNSUPPORTED', `workload "${workloadKey(w)}"`, 'a proxyless server needs listener.port');
    const rbac = withRbac ? translateRbac(model, { kind: 'server', workload: w, model: svc.name }, now) : undefined;
    out.listeners.push(grpcServerListener(address, port, rbac));
    out.routes.push(grpcServerRouteConfiguration(address, port));
  }
  return out.result();
}

/**
 * Translates the model for one node group. Throws ModelValidationError (invalid model) or
 * TranslateError (no such workload, role mismatch, something the target cannot express).
 */
export function translateAll(model: MeshModel, group: NodeGroup, options: TranslateOptions): TranslatedResources {
  if (options.validated !== true) {
    const issues = validateMeshModel(model);
    if (issues.length > 0) throw new ModelValidationError(issues);
  }
  const w = resolveWorkload(model, group);
  switch (w.role) {
    case 'gateway':
      return translateGateway(model, w, options.now, options.budgetLeases);
    case 'sidecar':
      return translateSidecar(model, w, options.now, options.budgetLeases);
    case 'proxyless':
      return translateProxyless(model, w, options.now, options.proxylessRbac ?? true);
  }
}
