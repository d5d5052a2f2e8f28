import { describe, expect, it } from 'vitest';
import { createMeshModel, type AuthorizationPolicy, type MeshModel } from '../../../control-plane/src/model/index.js';
import { explainAuthorization, type ExplainRequest } from '../../../control-plane/src/policy/explain.js';

const TD = 'mesh.test';
const chat = { name: 'chat', modelNames: ['gpt-4o'], versions: [{ name: 'v1', endpoints: [{ address: '10.0.0.1', port: 80 }] }] };
const embed = { name: 'embed', versions: [{ name: 'v1', endpoints: [{ address: '10.0.0.2', port: 80 }] }] };

function mesh(policies: AuthorizationPolicy[]): MeshModel {
  return { ...createMeshModel(TD), models: [chat, embed], authorizationPolicies: policies };
}

const base: ExplainRequest = {
  caller: `spiffe://${TD}/ns/team-a/sa/app`,
  model: 'chat',
  method: 'POST',
  path: '/v1/chat/completions',
  time: new Date('2026-03-02T10:00:00Z'), // a Monday
};

describe('explainAuthorization', () => {
  const policies: AuthorizationPolicy[] = [
    { name: 'a-infer', rules: [{ from: [`spiffe://${TD}/ns/team-a/*`], to: ['infer'], models: ['chat'] }] },
    { name: 'b-office-hours', rules: [{ from: [`spiffe://${TD}/ns/team-b/sa/app`], to: ['infer'], when: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00', timeZone: 'Europe/Paris' }] }] },
    { name: 'c-readers', rules: [{ from: ['*'], to: ['read_models'] }] },
    { name: 'd-header', rules: [{ from: [`spiffe://${TD}/ns/ops/sa/bot`], operations: [{ methods: ['DELETE'], paths: ['/v1/models*'] }], headers: [{ name: 'x-change', op: 'prefix', value: 'CHG-' }] }] },
    { name: 'e-shadow', dryRun: true, rules: [{ from: [`spiffe://${TD}/ns/team-c/*`], to: ['infer'] }] },
    { name: 'f-only-edge', workloads: ['edge/gw'], rules: [{ from: [`spiffe://${TD}/ns/team-d/*`] }] },
  ];
  const m = mesh(policies);
  const table: [string, Partial<ExplainRequest>, boolean, string | undefined, RegExp][] = [
    ['namespace wildcard allows team-a to infer on chat', {}, true, 'a-infer', /rule 0 of policy a-infer matches/],
    ['model names resolve to the model service', { model: 'gpt-4o' }, true, 'a-infer', /allowed/],
    ['team-a may not use another model', { model: 'embed' }, false, undefined, /closest: rule 0 of policy a-infer, failing on models/],
    ['team-a may not call an admin path', { path: '/v1/models', method: 'DELETE' }, false, undefined, /denied/],
    ['plaintext callers match no principal', { caller: undefined }, false, undefined, /a plaintext caller/],
    ['team-b inside office hours (10:00 UTC = 11:00 Paris)', { caller: `spiffe://${TD}/ns/team-b/sa/app` }, true, 'b-office-hours', /allowed/],
    ['team-b after hours (17:30 UTC = 18:30 Paris)', { caller: `spiffe://${TD}/ns/team-b/sa/app`, time: new Date('2026-03-02T17:30:00Z') }, false, undefined, /failing on when/],
    ['team-b on a Sunday', { caller: `spiffe://${TD}/ns/team-b/sa/app`, time: new Date('2026-03-01T10:00:00Z') }, false, undefined, /when/],
    ['any authenticated caller may list models', { caller: `spiffe://${TD}/ns/x/sa/y`, method: 'GET', path: '/v1/models/chat' }, true, 'c-readers', /c-readers/],
    ['header condition holds', { caller: `spiffe://${TD}/ns/ops/sa/bot`, method: 'DELETE', path: '/v1/models/chat', headers: { 'x-change': 'CHG-42' } }, true, 'd-header', /d-header/],
    ['header condition fails', { caller: `spiffe://${TD}/ns/ops/sa/bot`, method: 'DELETE', path: '/v1/models/chat', headers: { 'x-change': 'nope' } }, false, undefined, /headers/],
    ['dry-run policies never allow', { caller: `spiffe://${TD}/ns/team-c/sa/x` }, false, undefined, /denied/],
    ['a policy scoped to another workload does not apply', { caller: `spiffe://${TD}/ns/team-d/sa/x`, workload: 'ai/side' }, false, undefined, /denied/],
    ['a policy scoped to this workload applies', { caller: `spiffe://${TD}/ns/team-d/sa/x`, workload: 'edge/gw' }, true, 'f-only-edge', /allowed/],
  ];
  it.each(table)('%s', (_title, override, allowed, policy, reason) => {
    const r = explainAuthorization(m, { ...base, ...override } as ExplainRequest);
    expect(r.allowed).toBe(allowed);
    expect(r.decision).toBe(allowed ? 'ALLOW' : 'DENY');
    expect(r.decidingRule?.policy).toBe(policy);
    expect(r.reason).toMatch(reason);
  });

  it('reports the shadow verdict of dry-run policies separately', () => {
    const r = explainAuthorization(m, { ...base, caller: `spiffe://${TD}/ns/team-c/sa/x` });
    expect(r.shadow).toEqual({ allowed: true, decidingRule: { policy: 'e-shadow', rule: 0 } });
    expect(r.rules.find((x) => x.policy === 'e-shadow')).toMatchObject({ dryRun: true, matched: true });
  });

  it('denies by default when no policy applies', () => {
    const r = explainAuthorization(mesh([]), base);
    expect(r).toMatchObject({ allowed: false, applicablePolicies: [], reason: expect.stringMatching(/default is deny/) });
  });

  it('lists every failed condition of every rule', () => {
    const r = explainAuthorization(m, { ...base, caller: `spiffe://${TD}/ns/zzz/sa/q`, model: 'embed', time: new Date('2026-03-01T03:00:00Z') });
    expect(r.rules.find((x) => x.policy === 'b-office-hours')!.failed).toEqual(['from', 'when']);
    expect(r.rules.find((x) => x.policy === 'a-infer')!.failed).toEqual(['from', 'models']);
  });

  it('notes a model nobody answers to', () => {
    expect(explainAuthorization(m, { ...base, model: 'mystery' }).reason).toMatch(/no model answers to 'mystery'/);
  });
});
