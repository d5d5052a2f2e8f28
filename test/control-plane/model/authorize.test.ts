/** authorize(): the explain evaluator over the same effective rules translate/ turns into RBAC. */
import { describe, expect, it } from 'vitest';
import { sampleModel, TD } from './fixtures.js';
import { authorize, effectiveRules, nextAuthorizationChange, type AuthorizationQuery } from '../../../control-plane/src/model/index.js';

const m = sampleModel();
const WED_11_PARIS = new Date('2026-11-25T10:00:00Z');
const base: AuthorizationQuery = { workload: 'gw/edge', principal: `spiffe://${TD}/ns/apps/sa/web`, method: 'POST', path: '/v1/chat/completions', model: 'chat', now: WED_11_PARIS };

describe('authorize', () => {
  it.each<[string, Partial<AuthorizationQuery>, boolean, string | undefined]>([
    ['apps may infer on chat', {}, true, 'apps-infer#0'],
    ['apps may not infer on embed (model-limited rule), but office hours allow any mesh identity', { model: 'embed' }, true, 'office-hours#0'],
    ['outside office hours embed is denied', { model: 'embed', now: new Date('2026-11-28T10:00:00Z') }, false, undefined],
    ['plaintext callers match no principal rule', { principal: undefined }, false, undefined],
    ['admin needs the ticket header', { principal: `spiffe://${TD}/ns/ops/sa/admin`, method: 'DELETE', path: '/v1/models/chat', now: new Date('2026-11-28T10:00:00Z') }, false, undefined],
    ['admin with the ticket header', { principal: `spiffe://${TD}/ns/ops/sa/admin`, method: 'DELETE', path: '/v1/models/chat', headers: { 'x-ops-ticket': 'T-1' } }, true, 'apps-infer#1'],
    ['sidecar admits its gateway', { workload: 'models/chat-v1', principal: `spiffe://${TD}/ns/gw/sa/edge` }, true, 'meshward:gateways#0'],
    ['sidecar refuses a direct client', { workload: 'models/chat-v1' }, false, undefined],
    ['sidecar refuses a gateway that does not expose its model', { workload: 'models/chat-v1', principal: `spiffe://${TD}/ns/legacy/sa/edge` }, false, undefined],
    ['proxyless server: selected policy matches by path', { workload: 'models/echo-server', principal: undefined, path: '/grpc.testing.TestService/UnaryCall' }, true, 'echo-callers#0'],
  ])('%s', (_t, override, allowed, rule) => {
    const d = authorize(m, { ...base, ...override });
    expect(d.allowed).toBe(allowed);
    expect(d.rule).toBe(rule);
    expect(d.reason).toMatch(allowed ? /is allowed/ : /default deny/);
  });

  it('reports the dry-run verdict separately', () => {
    const q = { ...base, principal: `spiffe://${TD}/ns/partners/sa/p`, method: 'POST', path: '/v2/models/chat/infer', now: new Date('2026-11-28T10:00:00Z') };
    const d = authorize(m, q);
    expect(d.allowed).toBe(false);
    expect(d.dryRun).toEqual({ allowed: true, rule: 'try-partners#0' });
  });

  it('names a missing workload', () => {
    expect(() => authorize(m, { ...base, workload: 'x/y' })).toThrow(/workload "x\/y" does not exist/);
  });

  it('effective rules: entry points get unselected policies, sidecars do not', () => {
    const ids = (k: number) => effectiveRules(m, m.workloads[k]!).map((r) => r.id);
    expect(ids(0)).toEqual(['apps-infer#0', 'apps-infer#1', 'office-hours#0', 'try-partners#0']);
    expect(ids(2)).toEqual(['meshward:gateways#0']);
    expect(ids(4)).toEqual(['apps-infer#0', 'apps-infer#1', 'office-hours#0', 'try-partners#0', 'echo-callers#0']);
  });

  it('tells the scheduler when the next window flips', () => {
    expect(nextAuthorizationChange(m, WED_11_PARIS)?.toISOString()).toBe('2026-11-25T16:00:00.000Z');
    expect(nextAuthorizationChange({ ...m, authorizationPolicies: [] }, WED_11_PARIS)).toBeUndefined();
  });
});
