/**
 * "Would this call be allowed, and which rule decides?" — the authorization semantics of
 * model/authorization-policy.ts evaluated in plain TypeScript over a MeshModel, as
 * `istioctl x authz check` does for Istio. Pure: the caller passes the model and the time.
 *
 * Semantics (the same the proxies enforce through RBAC):
 * - default deny; a request is allowed when at least one rule of at least one enforced policy that
 *   applies to the workload matches;
 * - a rule matches when every non-empty condition matches (from AND operation AND headers AND
 *   models AND when); within a condition any entry matches;
 * - dry-run policies never decide; their matches are reported separately (the shadow result).
 * The first matching enforced rule in policy-name order is reported as the deciding one (RBAC
 * allows on any match, so which one "wins" is only a reporting choice; all matches are listed).
 */
import {
  OPERATION_SETS,
  isWithinAnyTimeWindow,
  modelNamesOf,
  parsePathPattern,
  parsePrincipalPattern,
  pathMatches,
  principalMatches,
  type AuthorizationPolicy,
  type AuthorizationRule,
  type HeaderCondition,
  type MeshModel,
  type Operation,
} from '../model/index.js';

export interface ExplainRequest {
  /** The caller's SPIFFE ID; undefined for a plaintext caller (PERMISSIVE listeners). */
  readonly caller: string | undefined;
  /** The model: a ModelService name, or one of its modelNames (the x-meshward-model header). */
  readonly model: string;
  /** HTTP method and path of the call (e.g. POST /v1/chat/completions). */
  readonly method: string;
  readonly path: string;
  /** Request headers (lower-case names) the rules may test. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The enforcing workload `<namespace>/<name>`; undefined evaluates every policy (mesh-wide view). */
  readonly workload?: string;
  readonly time: Date;
}

/** Why one rule did or did not match: the first condition that failed, or none. */
export type FailedCondition = 'from' | 'operation' | 'headers' | 'models' | 'when';

export interface RuleResult {
  readonly policy: string;
  readonly rule: number;
  readonly dryRun: boolean;
  readonly matched: boolean;
  /** Every condition that failed (empty when matched). */
  readonly failed: readonly FailedCondition[];
}

export interface ExplainResult {
  readonly allowed: boolean;
  readonly decision: 'ALLOW' | 'DENY';
  /** The rule that allows the call; undefined on DENY. */
  readonly decidingRule: { readonly policy: string; readonly rule: number } | undefined;
  /** One sentence for people. */
  readonly reason: string;
  /** The ModelService the request resolves to (undefined when no model answers to the name). */
  readonly resolvedModel: string | undefined;
  /** Policies that apply to the workload, in evaluation order. */
  readonly applicablePolicies: readonly string[];
  readonly rules: readonly RuleResult[];
  /** Dry-run policies' verdict (what the shadow rules would say), when any applies. */
  readonly shadow: { readonly allowed: boolean; readonly decidingRule: { readonly policy: string; readonly rule: number } | undefined } | undefined;
}

function policyApplies(p: AuthorizationPolicy, workload: string | undefined): boolean {
  if (workload === undefined || p.workloads === undefined) return true;
  const [ns] = workload.split('/');
  return p.workloads.some((w) => w === workload || w === `${ns}/*`);
}

function operationMatches(op: Operation, method: string, path: string): boolean {
  const methods = op.methods ?? [];
  const paths = op.paths ?? [];
  if (methods.length > 0 && !methods.includes(method)) return false;
  if (paths.length === 0) return true;
  return paths.some((p) => {
    const parsed = parsePathPattern(p);
    return typeof parsed !== 'string' && pathMatches(parsed, path);
  });
}

function headerMatches(h: HeaderCondition, headers: Readonly<Record<string, string>>): boolean {
  const value = headers[h.name];
  let result: boolean;
  if (h.op === 'present') result = value !== undefined;
  else if (value === undefined) result = false;
  else {
    const v = h.value ?? '';
    switch (h.op) {
      case 'exact':
        result = value === v;
        break;
      case 'prefix':
        result = value.startsWith(v);
        break;
      case 'suffix':
        result = value.endsWith(v);
        break;
      case 'contains':
        result = value.includes(v);
        break;
      case 'regex':
        try {
          result = new RegExp(`^(?:${v})$`).test(value);
        } catch {
          result = false;
        }
        break;
    }
  }
  return h.invert === true ? !result : result;
}

function evaluateRule(rule: AuthorizationRule, req: ExplainRequest, model: string | undefined): FailedCondition[] {
  const failed: FailedCondition[] = [];
  const from = rule.from ?? [];
  if (from.length > 0) {
    const ok = from.some((f) => {
      const p = parsePrincipalPattern(f);
      return typeof p !== 'string' && principalMatches(p, req.caller);
    });
    if (!ok) failed.push('from');
  }
  const sets = rule.to ?? [];
  const ops = rule.operations ?? [];
  if (sets.length > 0 || ops.length > 0) {
    const all = [...sets.flatMap((s) => OPERATION_SETS[s] ?? []), ...ops];
    if (!all.some((op) => operationMatches(op, req.method, req.path))) failed.push('operation');
  }
  const headers = rule.headers ?? [];
  if (headers.length > 0 && !headers.every((h) => headerMatches(h, req.headers ?? {}))) failed.push('headers');
  const models = rule.models ?? [];
  if (models.length > 0 && (model === undefined || !models.includes(model))) failed.push('models');
  if (!isWithinAnyTimeWindow(rule.when, req.time)) failed.push('when');
  return failed;
}

/** Evaluates the request against the model's authorization policies. */
export function explainAuthorization(mesh: MeshModel, req: ExplainRequest): ExplainResult {
  const resolved = mesh.models.find((m) => m.name === req.model) ?? mesh.models.find((m) => modelNamesOf(m).includes(req.model));
  const policies = [...mesh.authorizationPolicies]
    .filter((p) => policyApplies(p, req.workload))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rules: RuleResult[] = [];
  for (const p of policies) {
    p.rules.forEach((rule, i) => {
      const failed = evaluateRule(rule, req, resolved?.name);
      rules.push({ policy: p.name, rule: i, dryRun: p.dryRun === true, matched: failed.length === 0, failed });
    });
  }
  const enforcedMatch = rules.find((r) => !r.dryRun && r.matched);
  const shadowRules = rules.filter((r) => r.dryRun);
  const shadowMatch = shadowRules.find((r) => r.matched);
  const enforcedCount = policies.filter((p) => p.dryRun !== true).length;
  const who = req.caller ?? 'a plaintext caller';
  const what = `${req.method} ${req.path} on model ${req.model}`;
  let reason: string;
  if (enforcedMatch !== undefined) {
    reason = `allowed: ${who} may ${what}: rule ${enforcedMatch.rule} of policy ${enforcedMatch.policy} matches`;
  } else if (enforcedCount === 0) {
    reason = `denied: no enforced authorization policy applies${req.workload ? ` to ${req.workload}` : ''}, and the default is deny`;
  } else {
    // "Closest": a rule that names this caller first, then the fewest failed conditions.
    const rank = (r: RuleResult): number => (r.failed.includes('from') ? 100 : 0) + r.failed.length;
    const enforced = rules.filter((r) => !r.dryRun);
    const best = Math.min(...enforced.map(rank));
    const nearest = enforced.filter((r) => rank(r) === best).slice(0, 3);
    reason =
      `denied: no rule allows ${who} to ${what}` +
      (nearest.length === 0
        ? ''
        : ` (closest: ${nearest.map((r) => `rule ${r.rule} of policy ${r.policy}, failing on ${r.failed.join(', ')}`).join('; ')})`);
  }
  if (resolved === undefined) reason += `; note: no model answers to '${req.model}'`;
  return {
    allowed: enforcedMatch !== undefined,
    decision: enforcedMatch !== undefined ? 'ALLOW' : 'DENY',
    decidingRule: enforcedMatch === undefined ? undefined : { policy: enforcedMatch.policy, rule: enforcedMatch.rule },
    reason,
    resolvedModel: resolved?.name,
    applicablePolicies: policies.map((p) => p.name),
    rules,
    shadow:
      shadowRules.length === 0
        ? undefined
        : { allowed: shadowMatch !== undefined, decidingRule: shadowMatch === undefined ? undefined : { policy: shadowMatch.policy, rule: shadowMatch.rule } },
  };
}
