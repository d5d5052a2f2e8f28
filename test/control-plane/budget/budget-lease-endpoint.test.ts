/** budgetLeaseEndpointOf: the lease endpoint proxies get, from budgets.leaseEndpoint and the bound API. */
import { describe, expect, it } from 'vitest';
import { budgetLeaseEndpointOf, type BudgetLeaseEndpointInput } from '../../../control-plane/src/budget/budget-lease-endpoint.js';

const SERVING = 'spiffe://meshward.local/ns/meshward-system/sa/control-plane';
const base: BudgetLeaseEndpointInput = {
  leaseEndpoint: { kind: 'derived' },
  api: { host: '10.1.2.3', tls: 'off' },
  apiPort: 41234,
  token: 'mw_0123456789abcdef_x',
  servingIdentity: undefined,
};

describe('budgetLeaseEndpointOf', () => {
  it('derives plaintext from api.host and the bound port when the API speaks HTTP', () => {
    expect(budgetLeaseEndpointOf(base)).toEqual({
      endpoint: { address: '10.1.2.3', port: 41234, tls: 'plaintext', authorization: 'Bearer mw_0123456789abcdef_x' },
      url: 'http://10.1.2.3:41234',
      reason: undefined,
    });
  });

  it('derives mesh mTLS to the serving identity when the API serves TLS', () => {
    const r = budgetLeaseEndpointOf({ ...base, api: { host: 'fd00::7', tls: 'mtls' }, servingIdentity: SERVING });
    expect(r.endpoint).toEqual({ address: 'fd00::7', port: 41234, tls: 'mtls', identity: SERVING, authorization: 'Bearer mw_0123456789abcdef_x' });
    expect(r.url).toBe('https://[fd00::7]:41234');
  });

  it('gives no endpoint, and says which setting to set, for a wildcard api.host', () => {
    const r = budgetLeaseEndpointOf({ ...base, api: { host: '0.0.0.0', tls: 'off' } });
    expect(r.endpoint).toBeUndefined();
    expect(r.reason).toMatch(/api\.host is the wildcard 0\.0\.0\.0.*set budgets\.leaseEndpoint \(MESHWARD_BUDGET_LEASE_URL\)/);
  });

  it('takes an explicit URL: https = mesh mTLS (default port 443), http = plaintext (default 80)', () => {
    const s = budgetLeaseEndpointOf({ ...base, leaseEndpoint: { kind: 'url', url: 'https://cp.meshward.svc' }, api: { host: '0.0.0.0', tls: 'tls' }, servingIdentity: SERVING });
    expect(s.endpoint).toEqual({ address: 'cp.meshward.svc', port: 443, tls: 'mtls', identity: SERVING, authorization: 'Bearer mw_0123456789abcdef_x' });
    expect(s.reason).toBeUndefined();
    const p = budgetLeaseEndpointOf({ ...base, leaseEndpoint: { kind: 'url', url: 'http://cp.internal' } });
    expect(p.endpoint).toMatchObject({ address: 'cp.internal', port: 80, tls: 'plaintext' });
  });

  it('warns when the URL scheme disagrees with api.tls', () => {
    expect(budgetLeaseEndpointOf({ ...base, leaseEndpoint: { kind: 'url', url: 'https://lb.example:8443' } }).reason).toMatch(/https but api\.tls is off/);
    expect(budgetLeaseEndpointOf({ ...base, leaseEndpoint: { kind: 'url', url: 'http://cp:8080' }, api: { host: '::', tls: 'mtls' } }).reason).toMatch(/http but api\.tls is mtls/);
  });

  it("'off' gives no endpoint", () => {
    expect(budgetLeaseEndpointOf({ ...base, leaseEndpoint: { kind: 'off' } }).endpoint).toBeUndefined();
  });
});
