/** The lease service's invariant: Σ granted ≤ budget per window, grants monotonic, release, restart safety. */
import { describe, expect, it } from 'vitest';
import { createBudgetLeaseService } from '../../../control-plane/src/budget/budget-lease-service.js';
import type { Budget } from '../../../control-plane/src/model/budget.js';

const H = 3_600_000;
const T = Math.floor(Date.UTC(2026, 10, 26, 10) / H) * H;
const budget: Budget = { name: 'b', principals: ['*'], tokens: 1000, window: 'hour' };

describe('budget lease service', () => {
  it('never grants more than the budget across nodes, capped per ask, monotonic per node', () => {
    const now = { t: T };
    const s = createBudgetLeaseService({ budgets: () => [budget], now: () => new Date(now.t) });
    now.t = T + 1000;
    let total = 0;
    const last = new Map<string, number>();
    for (let i = 0; i < 50; i++) {
      const node = `n${i % 7}`;
      const [g] = s.lease(node, [{ budget: 'b', key: 'k', spent: 0, want: 100 + (i % 5) * 200 }]);
      expect(g!.granted).toBeGreaterThanOrEqual(last.get(node) ?? 0);
      expect(g!.granted - (last.get(node) ?? 0)).toBeLessThanOrEqual(250); // a quarter of the budget per ask
      total += g!.granted - (last.get(node) ?? 0);
      last.set(node, g!.granted);
      expect(total).toBeLessThanOrEqual(1000);
    }
    expect(total).toBe(1000);
    expect(s.usage('b', 'k')).toMatchObject({ granted: 1000, available: 0, nodes: 7 });
  });

  it('takes back grant − spent on release, and starts each window from zero', () => {
    const now = { t: T };
    const s = createBudgetLeaseService({ budgets: () => [budget], now: () => new Date(now.t) });
    expect(s.lease('a', [{ budget: 'b', key: 'k', spent: 0, want: 250 }])[0]!.granted).toBe(250);
    expect(s.lease('a', [{ budget: 'b', key: 'k', spent: 100, want: 0, release: true }])[0]).toMatchObject({ granted: 100, available: 900 });
    expect(s.lease('b', [{ budget: 'b', key: 'k', spent: 0, want: 250 }])[0]!.granted).toBe(250);
    now.t = T + H;
    expect(s.lease('a', [{ budget: 'b', key: 'k', spent: 0, want: 0 }])[0]).toMatchObject({ granted: 0, available: 1000, windowStartMs: T + H });
  });

  it('a release naming the grant it released from applies only while that is still the grant (a delayed release never takes back a later grant)', () => {
    const s = createBudgetLeaseService({ budgets: () => [budget], now: () => new Date(T) });
    expect(s.lease('a', [{ budget: 'b', key: 'k', spent: 0, want: 250 }])[0]!.granted).toBe(250);
    // The proxy released from 250 (spent 100), but that call is delayed; meanwhile it asked for more.
    expect(s.lease('a', [{ budget: 'b', key: 'k', spent: 100, want: 250 }])[0]).toMatchObject({ granted: 500, available: 500 });
    // The late release names 250, not the current 500: ignored, the proxy keeps what it holds.
    expect(s.lease('a', [{ budget: 'b', key: 'k', spent: 100, want: 0, release: true, granted: 250 }])[0]).toMatchObject({ granted: 500, available: 500 });
    // A release from the current grant applies.
    expect(s.lease('a', [{ budget: 'b', key: 'k', spent: 120, want: 0, release: true, granted: 500 }])[0]).toMatchObject({ granted: 120, available: 880 });
    expect(s.usage('b', 'k')).toMatchObject({ granted: 120, spent: 120 });
  });

  it('a service started mid-window grants nothing for that window (it cannot know what was granted before)', () => {
    const s = createBudgetLeaseService({ budgets: () => [budget], now: () => new Date(T + 10_000) });
    expect(s.lease('a', [{ budget: 'b', key: 'k', spent: 0, want: 100 }])[0]).toMatchObject({ granted: 0, available: 0 });
    expect(s.lease('a', [{ budget: 'nope', key: 'k', spent: 0, want: 100 }])[0]!.error).toBe("budget 'nope' does not exist");
  });
});

describe('durable lease state', () => {
  it('survives a restart in the same window: the bound holds across it', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createFileLeaseState } = await import('../../../control-plane/src/budget/budget-lease-service.js');
    const dir = mkdtempSync(join(tmpdir(), 'mw-leases-'));
    try {
      const file = join(dir, 'budget-leases.json');
      const now = { t: T + 5000 };
      const first = createBudgetLeaseService({ budgets: () => [budget], now: () => new Date(now.t), state: createFileLeaseState(file) });
      expect(first.lease('a', [{ budget: 'b', key: 'k', spent: 0, want: 250 }])[0]!.granted).toBe(250);
      expect(first.lease('b', [{ budget: 'b', key: 'k', spent: 0, want: 250 }])[0]!.granted).toBe(250);
      // "Restart" mid-window: the new instance knows the 500 granted and grants only the rest.
      now.t = T + 60_000;
      const second = createBudgetLeaseService({ budgets: () => [budget], now: () => new Date(now.t), state: createFileLeaseState(file) });
      expect(second.usage('b', 'k')).toMatchObject({ granted: 500, nodes: 2 });
      let total = 500;
      for (let i = 0; i < 10; i++) {
        const before = second.usage('b', 'k')!.granted;
        second.lease(`n${i}`, [{ budget: 'b', key: 'k', spent: 0, want: 250 }]);
        total += second.usage('b', 'k')!.granted - before;
      }
      expect(total).toBe(1000);
      // A first start with durable state (no file yet) grants at once.
      const fresh = createBudgetLeaseService({ budgets: () => [budget], now: () => new Date(T + 30_000), state: createFileLeaseState(join(dir, 'other.json')) });
      expect(fresh.lease('a', [{ budget: 'b', key: 'k', spent: 0, want: 100 }])[0]!.granted).toBe(100);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
