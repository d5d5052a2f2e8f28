/** Authorization policies → RBAC: exact proto shapes, time windows, dry-run shadow rules, scopes. */
import { describe, expect, it } from 'vitest';
import { toJson } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { sampleModel, TD } from '../model/fixtures.js';
import { envoyRegistry, rbacFilterConfig, translateAll, translateRbac, rulePolicy } from '../../../control-plane/src/translate/index.js';
import { PolicySchema, RBAC_Action } from '../../../control-plane/src/gen/envoy/config/rbac/v3/rbac_pb.js';
import { RBACSchema } from '../../../control-plane/src/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { HttpConnectionManagerSchema } from '../../../control-plane/src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { create } from '@bufbuild/protobuf';
import type { MeshModel } from '../../../control-plane/src/model/mesh-model.js';
import type { AuthorizationRule } from '../../../control-plane/src/model/authorization-policy.js';

const WED_11_PARIS = new Date('2026-11-25T10:00:00Z'); // Wednesday 11:00 in Paris
const WED_18_PARIS = new Date('2026-11-25T17:00:00Z');
const SAT_11_PARIS = new Date('2026-11-28T10:00:00Z');

const m = sampleModel();
const gw = m.workloads[0]!;
const policyJson = (rule: AuthorizationRule, model: MeshModel = m, scope: Parameters<typeof rulePolicy>[2] = { kind: 'gateway', workload: gw }) => {
  const p = rulePolicy(model, rule, scope, WED_11_PARIS);
  return p === undefined ? undefined : (toJson(PolicySchema, create(PolicySchema, p)) as Record<string, unknown>);
};

describe('rule shapes', () => {
  it('exact identity, namespace, trust domain, any authenticated, anyone', () => {
    expect(policyJson({ from: [`spiffe://${TD}/ns/a/sa/b`] })).toEqual({
      permissions: [{ any: true }],
      principals: [{ authenticated: { principalName: { exact: `spiffe://${TD}/ns/a/sa/b` } } }],
    });
    expect(policyJson({ from: [`spiffe://${TD}/ns/a/*`, `spiffe://${TD}/*`, '*'] })!['principals']).toEqual([
      { authenticated: { principalName: { prefix: `spiffe://${TD}/ns/a/` } } },
      { authenticated: { principalName: { prefix: `spiffe://${TD}/` } } },
      { authenticated: {} },
    ]);
    expect(policyJson({})).toEqual({ permissions: [{ any: true }], principals: [{ any: true }] });
  });

  it('operations: methods AND paths, operations OR-ed; exact, prefix and segment wildcards', () => {
    expect(policyJson({ operations: [{ methods: ['GET'], paths: ['/v1/models*'] }, { paths: ['/v2/models/*/infer', '/healthz'] }] })).toEqual({
      permissions: [
        {
          orRules: {
            rules: [
              {
                andRules: {
                  rules: [
                    { header: { name: ':method', stringMatch: { exact: 'GET' } } },
                    { urlPath: { path: { prefix: '/v1/models' } } },
                  ],
                },
              },
              {
                orRules: {
                  rules: [{ urlPath: { path: { safeRegex: { regex: '/v2/models/[^/]+/infer' } } } }, { urlPath: { path: { exact: '/healthz' } } }],
                },
              },
            ],
          },
        },
      ],
      principals: [{ any: true }],
    });
  });

  it('headers are AND-ed with operations; present, regex and inverted matches', () => {
    const j = policyJson({
      to: ['read_models'],
      headers: [
        { name: 'x-team', op: 'regex', value: 'ml-.*' },
        { name: 'x-debug', op: 'present', invert: true },
      ],
    })!;
    const rules = (j['permissions'] as { andRules: { rules: unknown[] } }[])[0]!.andRules.rules;
    expect(rules).toHaveLength(3);
    expect(rules[1]).toEqual({ header: { name: 'x-team', stringMatch: { safeRegex: { regex: 'ml-.*' } } } });
    expect(rules[2]).toEqual({ header: { name: 'x-debug', presentMatch: true, invertMatch: true } });
  });

  it('models: a header match at a gateway, a filter at a server', () => {
    const j = policyJson({ models: ['chat'] })!;
    expect(j['permissions']).toEqual([
      {
        orRules: {
          rules: [
            { header: { name: 'x-meshward-model', stringMatch: { exact: 'gpt-4o-mini' } } },
            { header: { name: 'x-meshward-model', stringMatch: { exact: 'chat' } } },
          ],
        },
      },
    ]);
    const sidecar = m.workloads[2]!;
    expect(policyJson({ models: ['chat'] }, m, { kind: 'server', workload: sidecar, model: 'chat' })).toEqual({
      permissions: [{ any: true }],
      principals: [{ any: true }],
    });
    expect(policyJson({ models: ['embed'] }, m, { kind: 'server', workload: sidecar, model: 'chat' })).toBeUndefined();
  });
});

describe('time windows', () => {
  const names = (now: Date) => Object.keys(translateRbac(m, { kind: 'gateway', workload: gw }, now).rules.policies).sort();
  it('includes a windowed rule only inside its window (Europe/Paris office hours)', () => {
    expect(names(WED_11_PARIS)).toContain('office-hours#0');
    expect(names(WED_18_PARIS)).not.toContain('office-hours#0');
    expect(names(SAT_11_PARIS)).not.toContain('office-hours#0');
    expect(names(SAT_11_PARIS)).toEqual(['apps-infer#0', 'apps-infer#1']);
  });
});

describe('RBAC filter config', () => {
  it('default deny: ALLOW with no policies when nothing applies', () => {
    const empty = { ...m, authorizationPolicies: [] };
    const r = translateRbac(empty, { kind: 'gateway', workload: gw }, WED_11_PARIS);
    expect(r.rules.action).toBe(RBAC_Action.ALLOW);
    expect(Object.keys(r.rules.policies)).toEqual([]);
    expect(r.shadowRules).toBeUndefined();
  });

  it('dry-run policies go to shadow rules (enforced ∪ dry-run) with their own stat prefix', () => {
    const hcm = translateAll(m, { role: 'gateway', workload: 'gw/edge' }, { now: WED_11_PARIS }).listeners[0]!.filterChains[0]!.filters[0]!;
    if (hcm.configType.case !== 'typedConfig') throw new Error('no hcm');
    const filters = anyUnpack(hcm.configType.value, HttpConnectionManagerSchema)!.httpFilters;
    const rbacFilter = filters.find((f) => f.name === 'envoy.filters.http.rbac')!;
    if (rbacFilter.configType.case !== 'typedConfig') throw new Error('no rbac');
    const rbac = anyUnpack(rbacFilter.configType.value, RBACSchema)!;
    expect(Object.keys(rbac.rules!.policies).sort()).toEqual(['apps-infer#0', 'apps-infer#1', 'office-hours#0']);
    expect(Object.keys(rbac.shadowRules!.policies).sort()).toEqual(['apps-infer#0', 'apps-infer#1', 'office-hours#0', 'try-partners#0']);
    expect(rbac.rulesStatPrefix).toBe('meshward_authz_');
    expect(rbac.shadowRulesStatPrefix).toBe('meshward_authz_dryrun_');
    expect(rbac.trackPerRuleStats).toBe(true);
    expect(toJson(RBACSchema, rbac, { registry: envoyRegistry })).toHaveProperty('shadowRules.policies.try-partners#0.principals', [{ authenticated: {} }]);
  });

  it('sidecars enforce only policies selecting them plus the gateways exposing their model', () => {
    const r = translateRbac(m, { kind: 'server', workload: m.workloads[2]!, model: 'chat' }, WED_11_PARIS);
    expect(Object.keys(r.rules.policies)).toEqual(['meshward:gateways#0']);
    expect(toJson(PolicySchema, r.rules.policies['meshward:gateways#0']!)).toEqual({
      permissions: [{ any: true }],
      principals: [{ authenticated: { principalName: { exact: `spiffe://${TD}/ns/gw/sa/edge` } } }],
    });
    expect(r.shadowRules).toBeUndefined();
    const selected = { ...m, authorizationPolicies: [...m.authorizationPolicies, { name: 'direct', workloads: ['models/*'], rules: [{ from: [`spiffe://${TD}/ns/batch/*`] }] }] };
    const r2 = translateRbac(selected, { kind: 'server', workload: m.workloads[2]!, model: 'chat' }, WED_11_PARIS);
    expect(Object.keys(r2.rules.policies)).toEqual(['direct#0', 'meshward:gateways#0']);
  });

  it('respects workload selectors', () => {
    const names = (wk: number) =>
      Object.keys(translateRbac(m, { kind: 'server', workload: m.workloads[wk]!, model: 'grpc-echo' }, WED_11_PARIS).rules.policies);
    expect(names(4)).toContain('echo-callers#0');
    expect(names(2)).not.toContain('echo-callers#0');
  });

  it('leaves shadow rules and per-rule stats out for grpc', () => {
    const r = translateRbac(m, { kind: 'gateway', workload: gw }, WED_11_PARIS);
    const g = rbacFilterConfig(r, true);
    expect(g.shadowRules).toBeUndefined();
    expect(g.trackPerRuleStats).toBe(false);
    expect(g.rules).toBeDefined();
  });
});
