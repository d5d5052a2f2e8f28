import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import {
  CaError,
  createManualClock,
  createMemoryJoinTokenStore,
  hashJoinToken,
  joinTokenFromMetadata,
  workloadIdentity,
  type JoinTokenRecord,
  type JoinTokenStore,
} from '../../../control-plane/src/ca/index.js';
import { createJoinTokens } from '../../../control-plane/src/ca/join-tokens.js';
import { TD } from './ca-test-kit.js';

/** A store that remembers every record it was ever given, to prove what is (not) persisted. */
function spyStore(): JoinTokenStore & { written: JoinTokenRecord[] } {
  const inner = createMemoryJoinTokenStore();
  const written: JoinTokenRecord[] = [];
  return {
    ...inner,
    written,
    add: async (r) => {
      written.push(r);
      return inner.add(r);
    },
    update: async (r) => {
      written.push(r);
      return inner.update(r);
    },
  };
}

const who = workloadIdentity(TD, 'prod', 'model-a');

describe('join tokens', () => {
  it('are 256-bit random, shown once, and stored only as their SHA-256', async () => {
    const store = spyStore();
    const tokens = createJoinTokens({ store, clock: createManualClock() });
    const { token, record } = await tokens.issue(who, { description: 'node-17 bootstrap' });
    expect(token).toMatch(/^mwj_[A-Za-z0-9_-]{43}$/);
    expect(record).toMatchObject({ spiffeId: who.spiffeId, tokenHash: hashJoinToken(token), tokenId: hashJoinToken(token).slice(0, 16), description: 'node-17 bootstrap' });
    await tokens.verify(token);
    const everything = JSON.stringify(store.written) + JSON.stringify(await tokens.list());
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(token.slice(4));
    const second = await tokens.issue(who);
    expect(second.token).not.toBe(token);
  });

  it('verify: accepts a live token for its one identity and records use', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const tokens = createJoinTokens({ store: createMemoryJoinTokenStore(), clock });
    const { token } = await tokens.issue(who);
    clock.set(1_700_000_005_000);
    const rec = await tokens.verify(token);
    expect(rec.spiffeId).toBe(who.spiffeId);
    expect(rec.lastUsedAt).toBe(new Date(1_700_000_005_000).toISOString());
  });

  it('expire after their TTL (default 24 h, bounded)', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const tokens = createJoinTokens({ store: createMemoryJoinTokenStore(), clock });
    const { token, record } = await tokens.issue(who);
    expect(Date.parse(record.expiresAt) - Date.parse(record.createdAt)).toBe(24 * 3600_000);
    clock.set(Date.parse(record.expiresAt) - 1);
    await tokens.verify(token);
    clock.set(Date.parse(record.expiresAt));
    await expect(tokens.verify(token)).rejects.toThrow(`join token ${record.tokenId} expired at ${record.expiresAt}`);
    await expect(tokens.issue(who, { ttlMs: 31 * 24 * 3600_000 })).rejects.toThrow(/^ttlMs: must be between 1000 and 2592000000 milliseconds/);
    await expect(tokens.issue(who, { ttlMs: 0 })).rejects.toThrow(/^ttlMs:/);
  });

  it('are revocable one by one or per identity', async () => {
    const tokens = createJoinTokens({ store: createMemoryJoinTokenStore(), clock: createManualClock() });
    const t1 = await tokens.issue(who);
    const t2 = await tokens.issue(who);
    const other = await tokens.issue(workloadIdentity(TD, 'prod', 'other'));
    await tokens.revoke(t1.record.tokenId);
    await expect(tokens.verify(t1.token)).rejects.toThrow(`join token ${t1.record.tokenId} was revoked`);
    await tokens.verify(t2.token);
    expect(await tokens.revokeAllFor(who.spiffeId)).toBe(1);
    await expect(tokens.verify(t2.token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await tokens.verify(other.token);
    await expect(tokens.revoke('nope')).rejects.toMatchObject({ code: 'NOT_FOUND', message: "tokenId: no join token 'nope'" });
  });

  it('refuse malformed and unknown tokens without echoing them', async () => {
    const tokens = createJoinTokens({ store: createMemoryJoinTokenStore(), clock: createManualClock() });
    const { token } = await tokens.issue(who);
    const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    for (const bad of ['', 'mwj_', 'Bearer x', token + 'x', flipped, token.toUpperCase()]) {
      const err = await tokens.verify(bad).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(CaError);
      expect((err as CaError).code).toBe('UNAUTHENTICATED');
      if (bad.length > 4) expect((err as CaError).message).not.toContain(bad);
    }
  });
});

describe('join token in gRPC metadata', () => {
  const md = (pairs: [string, string][]): Metadata => {
    const m = new Metadata();
    for (const [k, v] of pairs) m.add(k, v);
    return m;
  };
  it('reads authorization: Bearer or x-meshward-join-token, and only one', () => {
    expect(joinTokenFromMetadata({ metadata: md([['authorization', 'Bearer mwj_x']]) })).toBe('mwj_x');
    expect(joinTokenFromMetadata({ metadata: md([['authorization', 'bearer   mwj_x ']]) })).toBe('mwj_x');
    expect(joinTokenFromMetadata({ metadata: md([['x-meshward-join-token', 'mwj_y']]) })).toBe('mwj_y');
    expect(joinTokenFromMetadata({ metadata: md([]) })).toBeUndefined();
    expect(() => joinTokenFromMetadata({ metadata: md([['authorization', 'Bearer a'], ['x-meshward-join-token', 'b']]) })).toThrow(/more than one join token/);
    expect(() => joinTokenFromMetadata({ metadata: md([['authorization', 'Token a']]) })).toThrow(/must be 'Bearer <join token>'/);
  });
});
