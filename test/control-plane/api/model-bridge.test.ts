import { describe, expect, it } from 'vitest';
import { createModelValidator, issueFieldToPointer } from '../../../control-plane/src/api/model-bridge.js';
import { StoreError } from '../../../control-plane/src/store/store-error.js';
import { createStore } from '../../../control-plane/src/store/store.js';
import { chatModel } from './helper.js';

describe('the whole-model validator behind every write', () => {
  it('maps model field paths to JSON pointers', () => {
    expect(issueFieldToPointer('versions[1].endpoints[0].port')).toBe('/versions/1/endpoints/0/port');
    expect(issueFieldToPointer('rules[0].when[2].timeZone')).toBe('/rules/0/when/2/timeZone');
    expect(issueFieldToPointer('namespaceMtlsModes.ai')).toBe('/namespaceMtlsModes/ai');
    expect(issueFieldToPointer('')).toBe('');
  });

  it('refuses only new issues: old bad data does not block unrelated changes', () => {
    const store = createStore({ path: ':memory:' });
    // Data written before a stricter validator shipped (no validator on this commit).
    store.commit([{ op: 'create', kind: 'rate-limits', name: 'old', spec: { name: 'old', model: 'gone', bucket: { maxTokens: 1, fillIntervalMs: 100 } } }], { actor: 'legacy' });
    const validate = createModelValidator({ defaultTrustDomain: 'mesh.test', current: () => store.snapshot() });
    // An unrelated, valid change goes through.
    store.commit([{ op: 'create', kind: 'models', name: 'chat', spec: chatModel() }], { actor: 't', validate });
    // A change that adds a problem of its own is refused, naming its field.
    try {
      store.commit([{ op: 'create', kind: 'rate-limits', name: 'new', spec: { name: 'new', model: 'nope', bucket: { maxTokens: 1, fillIntervalMs: 100 } } }], { actor: 't', validate });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).code).toBe('INVALID');
      expect((err as StoreError).issues[0]).toMatchObject({ field: '/model' });
    }
    // Deleting what others reference is REFERENCED, naming the referrer.
    store.commit([{ op: 'create', kind: 'rate-limits', name: 'rl', spec: { name: 'rl', model: 'chat', bucket: { maxTokens: 1, fillIntervalMs: 100 } } }], { actor: 't', validate });
    try {
      store.commit([{ op: 'delete', kind: 'models', name: 'chat' }], { actor: 't', validate });
      expect.unreachable();
    } catch (err) {
      expect((err as StoreError).code).toBe('REFERENCED');
      expect((err as StoreError).issues[0]!.resource).toEqual({ kind: 'rateLimit', name: 'rl' });
    }
    expect(store.snapshot().resources['rate-limits'].map((r) => r.name)).toEqual(['old', 'rl']);
    store.close();
  });
});
