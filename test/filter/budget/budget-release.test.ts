/**
 * The idle release's core (filter/assembly/budget/budget-ledger.ts `release`, `claimLeaseCall`,
 * `grant`) driven through the budget harness: several instances share one JS store, like Envoy's
 * worker VMs share shared data; `beforeSet` interleaves a second worker between a read and its CAS.
 * The filter-level behaviour (ticks, the release call, the real lease service) is in
 * fleet-bound.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  RELEASE_DONE, RELEASE_LATER, RELEASE_NONE, buildBudgetHarness, createSharedStore, loadBudgetHarness, type BudgetHarness, type SharedStore,
} from './harness/load-budget-harness.js';

const HOUR_NS = 3_600_000_000_000n;
const T0 = 1_790_000_000_000_000_000n - (1_790_000_000_000_000_000n % HOUR_NS);
const W = T0 / HOUR_NS;
const KEY = 'meshward.budget.team-a|spiffe://corp.example/ns/team-a/sa/app';
const S = 1_000_000_000n;
const IDLE = 30n * S;

beforeAll(() => {
  buildBudgetHarness('budget-release');
}, 120_000);

/** Two workers sharing one store; the counter holds a grant of 1000 with 300 spent at T0. */
async function workers(): Promise<{ store: SharedStore; a: BudgetHarness; b: BudgetHarness }> {
  const store = createSharedStore();
  store.nowNs = T0;
  const a = await loadBudgetHarness(store);
  const b = await loadBudgetHarness(store);
  a.ledger.grant(KEY, W, 1000);
  expect(a.ledger.charge(KEY, W, 300)).toBe(0);
  return { store, a, b };
}

describe('idle release (ledger)', () => {
  it('waits for release_after of inactivity, then lowers the grant to spent and says how much went back', async () => {
    const { store, a } = await workers();
    expect(a.ledger.release(KEY, W, T0 + IDLE - 1n, IDLE, T0 + IDLE + 3n * S).result).toBe(RELEASE_LATER);
    expect(a.ledger.read(KEY, W)).toEqual({ spent: 300, granted: 1000 });
    store.nowNs = T0 + IDLE;
    expect(a.ledger.release(KEY, W, T0 + IDLE, IDLE, T0 + IDLE + 3n * S)).toEqual({ result: RELEASE_DONE, released: 700 });
    expect(a.ledger.read(KEY, W)).toEqual({ spent: 300, granted: 300 });
    // Nothing more to give back: the tick forgets the counter.
    expect(a.ledger.release(KEY, W, T0 + 2n * IDLE, IDLE, T0 + 2n * IDLE + 3n * S).result).toBe(RELEASE_NONE);
    // No worker can spend the part given back.
    expect(a.ledger.charge(KEY, W, 1)).toBe(1);
  });

  it('an older window has nothing to release', async () => {
    const { a } = await workers();
    expect(a.ledger.release(KEY, W + 1n, T0 + HOUR_NS + IDLE, IDLE, T0 + HOUR_NS + IDLE + S).result).toBe(RELEASE_NONE);
  });

  it('two workers racing: exactly one lowers the grant (and sends the call), the other finds nothing to release', async () => {
    const { store, a, b } = await workers();
    const now = T0 + IDLE;
    store.nowNs = now;
    let bResult: { result: number; released: number } | undefined;
    // B runs its whole release between A's read and A's CAS.
    store.beforeSet = () => {
      delete store.beforeSet;
      bResult = b.ledger.release(KEY, W, now, IDLE, now + 3n * S);
    };
    const aResult = a.ledger.release(KEY, W, now, IDLE, now + 3n * S);
    expect(bResult).toEqual({ result: RELEASE_DONE, released: 700 });
    expect(aResult.result).toBe(RELEASE_NONE);
    expect(a.ledger.read(KEY, W)).toEqual({ spent: 300, granted: 300 });
  });

  it('a charge between the check and the CAS: the release backs off, then gives back only what is really unspent', async () => {
    const { store, a, b } = await workers();
    const now = T0 + IDLE;
    store.nowNs = now;
    store.beforeSet = () => {
      delete store.beforeSet;
      expect(b.ledger.charge(KEY, W, 50)).toBe(0); // another worker charges at `now`
    };
    expect(a.ledger.release(KEY, W, now, IDLE, now + 3n * S).result).toBe(RELEASE_LATER);
    expect(a.ledger.read(KEY, W)).toEqual({ spent: 350, granted: 1000 }); // the charge was not lost
    store.nowNs = now + IDLE;
    expect(a.ledger.release(KEY, W, now + IDLE, IDLE, now + IDLE + 3n * S)).toEqual({ result: RELEASE_DONE, released: 650 });
    expect(a.ledger.read(KEY, W)).toEqual({ spent: 350, granted: 350 });
  });

  it('no release while a lease call may be in flight; no lease call while a release is in flight', async () => {
    const { store, a, b } = await workers();
    const now = T0 + IDLE;
    store.nowNs = now;
    // A lease call sent at `now` with a 3 s in-flight window: it also counts as activity.
    expect(b.ledger.claim(KEY, W, now - IDLE, now + 3n * S)).toBe(true);
    expect(a.ledger.release(KEY, W, now, IDLE, now + 3n * S).result).toBe(RELEASE_LATER);
    const later = now + 4n * S;
    expect(a.ledger.release(KEY, W, later, IDLE, later + 3n * S).result).toBe(RELEASE_DONE);
    // The release is in flight until later + 3 s (or its answer): asking for more must wait.
    expect(b.ledger.claim(KEY, W, later + S, later + 4n * S)).toBe(false);
    // The release call's answer (granted = what was reported spent) ends the mark; a grant never lowers.
    a.ledger.grant(KEY, W, 300, true);
    expect(b.ledger.claim(KEY, W, later + S, later + 4n * S)).toBe(true);
    expect(a.ledger.read(KEY, W)).toEqual({ spent: 300, granted: 300 });
  });

  it('a release mark whose answer never came expires with its in-flight window', async () => {
    const { store, a, b } = await workers();
    const now = T0 + IDLE;
    store.nowNs = now;
    expect(a.ledger.release(KEY, W, now, IDLE, now + 3n * S).result).toBe(RELEASE_DONE);
    expect(b.ledger.claim(KEY, W, now + 2n * S, now + 5n * S)).toBe(false);
    expect(b.ledger.claim(KEY, W, now + 3n * S, now + 6n * S)).toBe(true);
  });
});

describe('lease.release_after_ms configuration', () => {
  let h: BudgetHarness;
  beforeAll(async () => {
    h = await loadBudgetHarness();
  });
  const limits = [{ name: 'team-a', principals: ['*'], tokens: 1000, window: 'hour' }];
  const lease = (extra: Record<string, unknown>): unknown => ({ budgets: { limits, lease: { cluster: 'cp', authority: 'cp', ...extra } } });
  it.each([0, 1000, 30000, 3600000])('accepts %j', (v) => {
    expect(h.configure(lease({ release_after_ms: v }))).toBeUndefined();
  });
  it.each([999, 1, -1, 3600001, 1500.5, '30000', null, true])('rejects %j naming the field', (v) => {
    expect(h.configure(lease({ release_after_ms: v }))).toBe(
      '$.budgets.lease.release_after_ms: must be 0 (never release) or an integer between 1000 and 3600000',
    );
  });
});
