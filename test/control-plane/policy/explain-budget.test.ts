/** Model access and budget explanations (pure), with the filter's matching rules. */
import { describe, expect, it } from 'vitest';
import { explainBudgets, explainModelAccess } from '../../../control-plane/src/policy/explain-budget.js';
import { createMeshModel, modelPatternMatches, type MeshModel } from '../../../control-plane/src/model/index.js';

const A = 'spiffe://td/ns/a/sa/x';
const mesh: MeshModel = {
  ...createMeshModel('td'),
  budgets: [
    { name: 'pot', principals: ['spiffe://td/ns/a/*'], tokens: 100, window: 'minute', shared: true },
    { name: 'mini', principals: [A], models: ['gpt-4o-mini*'], tokens: 50, window: 'day', onExceed: 'clamp', dryRun: true },
  ],
  modelAccessLists: [
    { name: 'a', principals: ['spiffe://td/ns/a/*'], models: ['gpt-4o*'] },
    { name: 'none', principals: ['spiffe://td/ns/b/*'], models: [] },
  ],
};

describe('explain: model access and budgets', () => {
  it('matches model patterns like the filter', () => {
    expect(modelPatternMatches('gpt-4o*', 'gpt-4o')).toBe(true);
    expect(modelPatternMatches('gpt-*-mini', 'gpt-4o-mini')).toBe(true);
    expect(modelPatternMatches('gpt-*-mini', 'gpt-4o-mini-2')).toBe(false);
    expect(modelPatternMatches('*', '')).toBe(true);
    expect(modelPatternMatches('a*b*c', 'abbc')).toBe(true);
    expect(modelPatternMatches('a*b*c', 'acb')).toBe(false);
  });

  it('allowed / denied / unrestricted', () => {
    expect(explainModelAccess(mesh, A, 'gpt-4o-mini')).toMatchObject({ decision: 'allowed', allowedBy: 'a' });
    expect(explainModelAccess(mesh, 'spiffe://td/ns/b/sa/y', 'gpt-4o')).toMatchObject({ decision: 'denied', matchingLists: ['none'] });
    expect(explainModelAccess(mesh, 'spiffe://td/ns/c/sa/z', 'anything')).toMatchObject({ decision: 'unrestricted' });
  });

  it('lists the applicable budgets with window bounds, the counter key and what is left', () => {
    const now = new Date('2026-11-26T10:15:30Z');
    const r = explainBudgets(mesh, A, 'gpt-4o-mini', undefined, now, (b, k) => (b === 'pot' && k === '*' ? { spent: 30 } : undefined));
    expect(r).toEqual([
      { budget: 'mini', window: 'day', windowStart: '2026-11-26T00:00:00.000Z', windowEnd: '2026-11-27T00:00:00.000Z', tokens: 50, key: A, spent: undefined, remaining: undefined, onExceed: 'clamp', dryRun: true },
      { budget: 'pot', window: 'minute', windowStart: '2026-11-26T10:15:00.000Z', windowEnd: '2026-11-26T10:16:00.000Z', tokens: 100, key: '*', spent: 30, remaining: 70, onExceed: 'reject', dryRun: false },
    ]);
    expect(explainBudgets(mesh, undefined, 'gpt-4o', undefined, now)).toEqual([]);
  });
});
