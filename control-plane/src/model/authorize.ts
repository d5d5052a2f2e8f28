/**
 * What authorization applies where, and a pure evaluator of it ("explain"): the same rules, in the
 * same order, that translate/ turns into RBAC, so the REST API's explain endpoint and the proxies
 * agree by construction.
 *
 * Where policies apply:
 * - A policy with `workloads` applies to the workloads it selects.
 * - A policy without `workloads` applies to every gateway and proxyless server: the entry points,
 *   where the peer is the caller. It does not apply to sidecars, whose peer is normally a gateway.
 * - A sidecar additionally allows the gateways that expose its model (synthetic rule
 *   `meshward:gateways#0`, any operation): end-user policy is enforced at the gateway, and a caller
 *   cannot get around it by calling the sidecar directly unless a policy selecting the sidecar
 *   allows that caller.
 */
import { OPERATION_SETS, type AuthorizationPolicy, type AuthorizationRule, type HeaderCondition, type Operation } from './authorization-policy.js';
import type { MeshModel } from './mesh-model.js';
import { parsePathPattern, pathMatches } from './path-pattern.js';
import { parsePrincipalPattern, principalMatches } from './spiffe-id.js';
import { isWithinAnyTimeWindow, nextTimeWindowTransition } from './time-window.js';
import { workloadKey, workloadSpiffeId, type Workload } from './workload.js';

/** Name of the synthetic policy letting gateways reach the sidecars of the models they expose. */
export const SIDECAR_GATEWAY_POLICY = 'meshward:gateways';

/** One rule in effect at a workload, identified as `<policy>#<index>` (the RBAC policy name). */
export interface EffectiveRule {
  readonly id: string;
  readonly policy: string;
  readonly rule: AuthorizationRule;
  readonly dryRun: boolean;
}

/** True when a policy without a selector, or with one naming the workload, applies to it. */
export function policyAppliesTo(p: AuthorizationPolicy, w: Workload): boolean {
  if (p.workloads === undefined) return w.role !== 'sidecar';
  return p.workloads.includes(workloadKey(w)) || p.workloads.includes(`${w.namespace}/*`);
}

/** Every rule that applies at the workload (regardless of time windows), in policy then rule order. */
export function effectiveRules(model: MeshModel, w: Workload): EffectiveRule[] {
  const out: EffectiveRule[] = [];
  for (const p of model.authorizationPolicies) {
    if (!policyAppliesTo(p, w)) continue;
    p.rules.forEach((rule, i) => out.push({ id: `${p.name}#${i}`, policy: p.name, rule, dryRun: p.dryRun === true }));
  }
  if (w.role === 'sidecar' && w.serves) {
    const served = w.serves.model;
    const gateways = model.workloads
      .filter((g) => g.role === 'gateway' && (g.models === undefined || g.models.includes(served)))
      .map((g) => workloadSpiffeId(model.mesh, g));
    const ids = [...new Set(gateways)].sort();
    if (ids.length > 0) out.push({ id: `${SIDECAR_GATEWAY_POLICY}#0`, policy: SIDECAR_GATEWAY_POLICY, rule: { from: ids }, dryRun: false });
  }
  return out;
}

/** A request to explain. Header names lower-case; `model` is a ModelService name. */
export interface AuthorizationQuery {
  /** `<namespace>/<name>` of the workload receiving the request. */
  readonly workload: string;
  /** The caller's SPIFFE ID; absent for a plaintext caller. */
  readonly principal?: string | undefined;
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The model the request is for (at a gateway, the one its model header selects). */
  readonly model?: string;
  readonly now: Date;
}

export interface AuthorizationDecision {
  readonly allowed: boolean;
  /** The first enforced rule that allows the request (`<policy>#<index>`). */
  readonly rule?: string;
  /** The verdict if dry-run policies were enforced too (RBAC shadow rules); absent without any. */
  readonly dryRun?: { readonly allowed: boolean; readonly rule?: string };
  /** One sentence for humans. */
  readonly reason: string;
}

function operationMatches(op: Operation, method: string, path: string): boolean {
  if (op.methods && op.methods.length > 0 && !op.methods.includes(method)) return false;
  if (op.paths && op.paths.length > 0) {
    return op.paths.some((p) => {
      const pp = parsePathPattern(p);
      return typeof pp !== 'string' && pathMatches(pp, path);
    });
  }
  return true;
}

function headerMatches(h: HeaderCondition, headers: Readonly<Record<string, string>>): boolean {
  const v = headers[h.name];
  let m: boolean;
  if (h.op === 'present') m = v !== undefined;
  else if (v === undefined) m = false;
  else {
    const want = h.value ?? '';
    switch (h.op) {
      case 'exact':
        m = v === want;
        break;
      case 'prefix':
        m = v.startsWith(want);
        break;
      case 'suffix':
        m = v.endsWith(want);
        break;
      case 'contains':
        m = v.includes(want);
        break;
      case 'regex':
        m = new RegExp(`^(?:${want})$`).test(v);
        break;
    }
  }
  return h.invert === true ? !m : m;
}

/** True when the rule allows the request (time window included). `servedModel` for servers. */
export function ruleMatches(rule: AuthorizationRule, q: AuthorizationQuery, servedModel?: string): boolean {
  if (!isWithinAnyTimeWindow(rule.when, q.now)) return false;
  const from = rule.from ?? [];
  if (
    from.length > 0 &&
    !from.some((f) => {
      const p = parsePrincipalPattern(f);
      return typeof p !== 'string' && principalMatches(p, q.principal);
    })
  ) {
    return false;
  }
  const ops: Operation[] = [...(rule.to ?? []).flatMap((n) => OPERATION_SETS[n]), ...(rule.operations ?? [])];
  if (ops.length > 0 && !ops.some((op) => operationMatches(op, q.method, q.path))) return false;
  const headers = q.headers ?? {};
  if (!(rule.headers ?? []).every((h) => headerMatches(h, headers))) return false;
  if (rule.models && rule.models.length > 0) {
    const m = servedModel ?? q.model;
    if (m === undefined || !rule.models.includes(m)) return false;
  }
  return true;
}

/**
 * Decides a request as the workload's proxy would: default deny; allowed when any enforced rule
 * matches (the first, in order, is reported). Throws when the workload does not exist.
 */
export function authorize(model: MeshModel, q: AuthorizationQuery): AuthorizationDecision {
  const w = model.workloads.find((x) => workloadKey(x) === q.workload);
  if (!w) throw new Error(`workload "${q.workload}" does not exist`);
  const served = w.role === 'gateway' ? undefined : w.serves?.model;
  const rules = effectiveRules(model, w);
  const enforced = rules.filter((r) => !r.dryRun).find((r) => ruleMatches(r.rule, q, served));
  const hasDryRun = rules.some((r) => r.dryRun);
  const shadow = hasDryRun ? rules.find((r) => ruleMatches(r.rule, q, served)) : undefined;
  const caller = q.principal ?? 'a plaintext caller';
  return {
    allowed: enforced !== undefined,
    ...(enforced ? { rule: enforced.id } : {}),
    ...(hasDryRun ? { dryRun: { allowed: shadow !== undefined, ...(shadow ? { rule: shadow.id } : {}) } } : {}),
    reason: enforced
      ? `${caller} is allowed ${q.method} ${q.path} at ${q.workload} by rule ${enforced.id}`
      : `no rule allows ${caller} ${q.method} ${q.path} at ${q.workload} (default deny)`,
  };
}

/**
 * The next instant (minute resolution) at which any time-windowed rule of the model opens or closes,
 * or undefined if none ever does: the scheduler re-translates and pushes then.
 */
export function nextAuthorizationChange(model: MeshModel, now: Date): Date | undefined {
  return nextTimeWindowTransition(model.authorizationPolicies.flatMap((p) => p.rules.flatMap((r) => r.when ?? [])), now);
}
