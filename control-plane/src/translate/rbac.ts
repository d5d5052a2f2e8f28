/**
 * Authorization policies → Envoy RBAC (envoy.config.rbac.v3.RBAC), for the HTTP RBAC filter of
 * gateways and sidecars and for grpc-js's xDS RBAC on proxyless servers.
 *
 * Shape: action ALLOW; one RBAC policy per (authorization policy, rule) named `<policy>#<rule index>`,
 * so per-rule stats and the shadow effective policy id name the rule. An empty policy map denies
 * everything: default deny. Which rules apply where (entry points vs sidecars, the synthetic
 * gateway rule at sidecars) is model/authorize.ts's effectiveRules, shared with the explain API.
 *
 * Dry run: when any dry-run policy applies, `shadow_rules` = enforced rules ∪ dry-run rules, so the
 * shadow stats answer "what would happen if the dry-run policies were enforced too" (shadow_allowed
 * minus allowed = requests they would newly allow). Shadow results never change the verdict.
 *
 * Time windows: rules are included only while `now` is inside one of their windows; the caller
 * re-translates at the next transition (nextTimeWindowTransition in model/time-window.ts).
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  PermissionSchema,
  PrincipalSchema,
  RBAC_Action,
  RBACSchema as RbacConfigSchema,
  type Permission,
  type Policy,
  type Principal,
  type RBAC as RbacConfig,
} from '../gen/envoy/config/rbac/v3/rbac_pb.js';
import { HeaderMatcherSchema, type HeaderMatcher } from '../gen/envoy/config/route/v3/route_components_pb.js';
import { RBACSchema as RbacFilterSchema, type RBAC as RbacFilter } from '../gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import type { StringMatcherSchema } from '../gen/envoy/type/matcher/v3/string_pb.js';
import { effectiveRules, type EffectiveRule } from '../model/authorize.js';
import {
  OPERATION_SETS,
  type AuthorizationRule,
  type HeaderCondition,
  type Operation,
} from '../model/authorization-policy.js';
import type { MeshModel } from '../model/mesh-model.js';
import { MODEL_HEADER, modelNamesOf } from '../model/model-service.js';
import { parsePathPattern } from '../model/path-pattern.js';
import { parsePrincipalPattern } from '../model/spiffe-id.js';
import { isWithinAnyTimeWindow } from '../model/time-window.js';
import type { Workload } from '../model/workload.js';
import { STAT_PREFIX_RBAC, STAT_PREFIX_RBAC_DRY_RUN } from './names.js';

type Pattern = NonNullable<MessageInitShape<typeof StringMatcherSchema>['matchPattern']>;
type PermissionRule = NonNullable<MessageInitShape<typeof PermissionSchema>['rule']>;
type HeaderSpec = NonNullable<MessageInitShape<typeof HeaderMatcherSchema>['headerMatchSpecifier']>;

/** Where the RBAC runs, which decides how `models` conditions translate. */
export type RbacScope =
  /** Gateway: a rule's `models` becomes a match on the model header. */
  | { readonly kind: 'gateway'; readonly workload: Workload }
  /** Sidecar / proxyless server fronting one model: rules for other models are dropped. */
  | { readonly kind: 'server'; readonly workload: Workload; readonly model: string };


function stringMatcher(p: Pattern): { matchPattern: Pattern } {
  return { matchPattern: p };
}

function permission(rule: PermissionRule): Permission {
  return create(PermissionSchema, { rule });
}

function anyOf(perms: Permission[]): Permission {
  if (perms.length === 1) return perms[0]!;
  return permission({ case: 'orRules', value: { rules: perms } });
}

function allOf(perms: Permission[]): Permission {
  if (perms.length === 0) return permission({ case: 'any', value: true });
  if (perms.length === 1) return perms[0]!;
  return permission({ case: 'andRules', value: { rules: perms } });
}

function headerMatcher(h: HeaderCondition): HeaderMatcher {
  const value = h.value ?? '';
  const spec: HeaderSpec =
    h.op === 'present'
      ? { case: 'presentMatch', value: true }
      : {
          case: 'stringMatch',
          value: stringMatcher(
            h.op === 'regex'
              ? { case: 'safeRegex', value: { regex: value } }
              : h.op === 'exact'
                ? { case: 'exact', value }
                : h.op === 'prefix'
                  ? { case: 'prefix', value }
                  : h.op === 'suffix'
                    ? { case: 'suffix', value }
                    : { case: 'contains', value },
          ),
        };
  return create(HeaderMatcherSchema, { name: h.name, headerMatchSpecifier: spec, invertMatch: h.invert ?? false });
}

function exactHeader(name: string, value: string): Permission {
  return permission({
    case: 'header',
    value: create(HeaderMatcherSchema, {
      name,
      headerMatchSpecifier: { case: 'stringMatch', value: stringMatcher({ case: 'exact', value }) },
    }),
  });
}

/** One operation: (any listed method) AND (any listed path). */
export function operationPermission(op: Operation): Permission {
  const parts: Permission[] = [];
  if (op.methods && op.methods.length > 0) parts.push(anyOf(op.methods.map((m) => exactHeader(':method', m))));
  if (op.paths && op.paths.length > 0) {
    parts.push(
      anyOf(
        op.paths.map((p) => {
          const pp = parsePathPattern(p);
          if (typeof pp === 'string') throw new Error(`invalid path pattern '${p}': ${pp}`);
          const m: Pattern =
            pp.kind === 'exact'
              ? { case: 'exact', value: pp.path }
              : pp.kind === 'prefix'
                ? { case: 'prefix', value: pp.prefix }
                : { case: 'safeRegex', value: { regex: pp.regex } };
          return permission({ case: 'urlPath', value: { rule: { case: 'path', value: stringMatcher(m) } } });
        }),
      ),
    );
  }
  return allOf(parts);
}

function principalFor(pattern: string): Principal {
  const p = parsePrincipalPattern(pattern);
  if (typeof p === 'string') throw new Error(`invalid principal '${pattern}': ${p}`);
  const name: Pattern | undefined =
    p.kind === 'exact'
      ? { case: 'exact', value: p.spiffeId }
      : p.kind === 'namespace'
        ? { case: 'prefix', value: `spiffe://${p.trustDomain}/ns/${p.namespace}/` }
        : p.kind === 'trustDomain'
          ? { case: 'prefix', value: `spiffe://${p.trustDomain}/` }
          : undefined;
  return create(PrincipalSchema, {
    identifier: { case: 'authenticated', value: name === undefined ? {} : { principalName: stringMatcher(name) } },
  });
}

/**
 * Translates one rule to an RBAC Policy, or undefined when it does not apply here (outside its time
 * windows, or limited to models this server does not serve).
 */
export function rulePolicy(model: MeshModel, rule: AuthorizationRule, scope: RbacScope, now: Date): Omit<Policy, '$typeName'> | undefined {
  if (!isWithinAnyTimeWindow(rule.when, now)) return undefined;
  const parts: Permission[] = [];
  const ops: Operation[] = [...(rule.to ?? []).flatMap((n) => OPERATION_SETS[n]), ...(rule.operations ?? [])];
  if (ops.length > 0) parts.push(anyOf(ops.map(operationPermission)));
  for (const h of rule.headers ?? []) parts.push(permission({ case: 'header', value: headerMatcher(h) }));
  if (rule.models && rule.models.length > 0) {
    if (scope.kind === 'server') {
      if (!rule.models.includes(scope.model)) return undefined;
    } else {
      const names = rule.models.flatMap((m) => {
        const svc = model.models.find((s) => s.name === m);
        return svc ? modelNamesOf(svc) : [];
      });
      if (names.length === 0) return undefined;
      parts.push(anyOf(names.map((n) => exactHeader(MODEL_HEADER, n))));
    }
  }
  const from = rule.from ?? [];
  const principals =
    from.length === 0
      ? [create(PrincipalSchema, { identifier: { case: 'any', value: true } })]
      : from.map(principalFor);
  return { permissions: [allOf(parts)], principals };
}

/** RBAC policy map of the given rules (named by rule id, in order). */
function policyMap(model: MeshModel, rules: readonly EffectiveRule[], scope: RbacScope, now: Date): RbacConfig {
  const out: Record<string, Omit<Policy, '$typeName'>> = {};
  for (const r of rules) {
    const pol = rulePolicy(model, r.rule, scope, now);
    if (pol) out[r.id] = pol;
  }
  return create(RbacConfigSchema, { action: RBAC_Action.ALLOW, policies: out });
}

export interface TranslatedRbac {
  /** Enforced rules (default deny when empty). */
  readonly rules: RbacConfig;
  /** Enforced ∪ dry-run rules, present only when a dry-run policy applies. */
  readonly shadowRules?: RbacConfig;
}

/** The RBAC rule sets for one workload at `now`. */
export function translateRbac(model: MeshModel, scope: RbacScope, now: Date): TranslatedRbac {
  const applicable = effectiveRules(model, scope.workload);
  const enforced = applicable.filter((r) => !r.dryRun);
  const rules = policyMap(model, enforced, scope, now);
  if (!applicable.some((r) => r.dryRun)) return { rules };
  return { rules, shadowRules: policyMap(model, applicable, scope, now) };
}

/**
 * The HTTP RBAC filter config: rules with stat prefix {@link STAT_PREFIX_RBAC}; shadow rules (if
 * any) with {@link STAT_PREFIX_RBAC_DRY_RUN}; per-rule stats on (`track_per_rule_stats`).
 * `forGrpc` leaves out what grpc-js ignores or rejects (shadow rules and per-rule stats).
 */
export function rbacFilterConfig(rbac: TranslatedRbac, forGrpc = false): RbacFilter {
  return create(RbacFilterSchema, {
    rules: rbac.rules,
    rulesStatPrefix: forGrpc ? '' : STAT_PREFIX_RBAC,
    ...(rbac.shadowRules && !forGrpc
      ? { shadowRules: rbac.shadowRules, shadowRulesStatPrefix: STAT_PREFIX_RBAC_DRY_RUN }
      : {}),
    trackPerRuleStats: !forGrpc,
  });
}
