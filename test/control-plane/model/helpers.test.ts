/** SPIFFE IDs, principal patterns, path patterns, time windows, mTLS mode resolution. */
import { describe, expect, it } from 'vitest';
import {
  isWithinTimeWindow,
  nextTimeWindowTransition,
  parsePathPattern,
  parsePrincipalPattern,
  parseSpiffeId,
  pathMatches,
  principalMatches,
  resolveMtlsMode,
  workloadSpiffeId,
} from '../../../control-plane/src/model/index.js';

describe('SPIFFE IDs', () => {
  it.each([
    ['spiffe://td.local/ns/a/sa/b', { trustDomain: 'td.local', path: '/ns/a/sa/b', namespace: 'a', serviceAccount: 'b' }],
    ['spiffe://td.local', { trustDomain: 'td.local', path: '' }],
    ['spiffe://td.local/custom/path', { trustDomain: 'td.local', path: '/custom/path' }],
  ])('parses %s', (id, expected) => expect(parseSpiffeId(id)).toEqual(expected));
  it.each([
    ['http://td/ns/a', /spiffe:\/\//],
    ['spiffe://TD/ns/a', /trust domain/],
    ['spiffe://td//a', /empty segment/],
    ['spiffe://td/a/', /empty segment/],
    ['spiffe://td/a/../b', /'\.' and '\.\.'/],
    ['spiffe://td/a?b', /path segment/],
    ['spiffe://td:443/a', /trust domain/],
  ])('rejects %s', (id, reason) => {
    const r = parseSpiffeId(id);
    expect(typeof r).toBe('string');
    expect(r as string).toMatch(reason);
  });
  it('formats a workload identity', () => {
    expect(workloadSpiffeId({ trustDomain: 'td' }, { namespace: 'ns1', serviceAccount: 'sa1' })).toBe('spiffe://td/ns/ns1/sa/sa1');
  });
  it('principal patterns match as documented', () => {
    const ns = parsePrincipalPattern('spiffe://td/ns/apps/*');
    const td = parsePrincipalPattern('spiffe://td/*');
    const any = parsePrincipalPattern('*');
    const exact = parsePrincipalPattern('spiffe://td/ns/apps/sa/x');
    if (typeof ns === 'string' || typeof td === 'string' || typeof any === 'string' || typeof exact === 'string') throw new Error('parse');
    expect(principalMatches(ns, 'spiffe://td/ns/apps/sa/x')).toBe(true);
    expect(principalMatches(ns, 'spiffe://td/ns/apps2/sa/x')).toBe(false);
    expect(principalMatches(td, 'spiffe://td2/ns/a/sa/b')).toBe(false);
    expect(principalMatches(any, undefined)).toBe(false);
    expect(principalMatches(exact, 'spiffe://td/ns/apps/sa/x')).toBe(true);
    expect(parsePrincipalPattern('spiffe://td/ns/*/sa/x')).toMatch(/only allowed/);
    expect(parsePrincipalPattern('spiffe://td')).toMatch(/bare trust domain/);
  });
});

describe('path patterns', () => {
  it.each([
    ['/v1/embeddings', '/v1/embeddings', true],
    ['/v1/embeddings', '/v1/embeddings/x', false],
    ['/v1/models*', '/v1/models/gpt-4o', true],
    ['/v1/models*', '/v1/model', false],
    ['/v2/models/*/infer', '/v2/models/llama/infer', true],
    ['/v2/models/*/infer', '/v2/models/a/b/infer', false],
    ['/v2/models/*/infer', '/v2/models//infer', false],
    ['/a.b/*', '/a.b/c', true],
    ['/a.b/*', '/aXb/c', false],
  ])('%s vs %s → %s', (pattern, path, expected) => {
    const p = parsePathPattern(pattern);
    if (typeof p === 'string') throw new Error(p);
    expect(pathMatches(p, path)).toBe(expected);
  });
  it('rejects partial-segment wildcards and non-paths', () => {
    expect(parsePathPattern('/v1/mo*dels')).toMatch(/whole path segment/);
    expect(parsePathPattern('v1')).toMatch(/start with/);
    expect(parsePathPattern('/a b')).toMatch(/not allowed/);
  });
});

describe('time windows', () => {
  const office = { days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const, start: '09:00', end: '17:00', timeZone: 'Europe/Paris' };
  it.each([
    ['2026-11-25T07:59:00Z', false], // Wed 08:59 Paris
    ['2026-11-25T08:00:00Z', true], // Wed 09:00 Paris
    ['2026-11-25T15:59:00Z', true],
    ['2026-11-25T16:00:00Z', false], // 17:00 exclusive
    ['2026-11-28T10:00:00Z', false], // Saturday
    ['2026-07-01T07:30:00Z', true], // summer time: 09:30 Paris
  ])('office hours at %s → %s', (iso, open) => {
    expect(isWithinTimeWindow({ ...office, days: [...office.days] }, new Date(iso))).toBe(open);
  });
  it('windows past midnight belong to the day they start', () => {
    const night = { days: ['fri' as const], start: '22:00', end: '06:00' };
    expect(isWithinTimeWindow(night, new Date('2026-11-27T23:00:00Z'))).toBe(true); // Fri 23:00
    expect(isWithinTimeWindow(night, new Date('2026-11-28T05:59:00Z'))).toBe(true); // Sat 05:59
    expect(isWithinTimeWindow(night, new Date('2026-11-28T06:00:00Z'))).toBe(false);
    expect(isWithinTimeWindow(night, new Date('2026-11-26T23:00:00Z'))).toBe(false); // Thu 23:00
  });
  it('finds the next transition for the scheduler', () => {
    const t = nextTimeWindowTransition([{ ...office, days: [...office.days] }], new Date('2026-11-25T10:00:30Z'));
    expect(t?.toISOString()).toBe('2026-11-25T16:00:00.000Z');
    const fri = nextTimeWindowTransition([{ ...office, days: [...office.days] }], new Date('2026-11-27T17:00:00Z'));
    expect(fri?.toISOString()).toBe('2026-11-30T08:00:00.000Z'); // Monday 09:00 Paris
    expect(nextTimeWindowTransition([], new Date())).toBeUndefined();
  });
});

describe('nextTimeWindowTransition agrees with a minute-by-minute scan (DST dates, odd zones)', () => {
  const brute = (w: Parameters<typeof isWithinTimeWindow>[0], now: Date): number | undefined => {
    const init = isWithinTimeWindow(w, now);
    const s = Math.floor(now.getTime() / 60_000) * 60_000;
    for (let i = 1; i <= 8 * 1440; i++) if (isWithinTimeWindow(w, new Date(s + i * 60_000)) !== init) return s + i * 60_000;
    return undefined;
  };
  const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham'];
  const days = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
  const bases = [Date.UTC(2026, 2, 27), Date.UTC(2026, 2, 6), Date.UTC(2026, 9, 23), Date.UTC(2026, 3, 3)];
  let seed = 11;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  const cases = Array.from({ length: 24 }, (_, k) => {
    const w = { start: hhmm(Math.floor(rnd() * 48) * 30), end: hhmm(Math.floor(rnd() * 48) * 30), timeZone: zones[Math.floor(rnd() * zones.length)]!, days: days.filter(() => rnd() < 0.4) };
    return [JSON.stringify(w), w, new Date(bases[k % bases.length]! + Math.floor(rnd() * 3 * 86_400) * 1000)] as const;
  });
  it.each(cases)('%s', (_label, w, now) => {
    expect(nextTimeWindowTransition([w], now)?.getTime()).toBe(brute(w, now));
  });
});

describe('mTLS mode resolution', () => {
  const mesh = { trustDomain: 'td', mtlsMode: 'PERMISSIVE' as const, namespaceMtlsModes: { secure: 'STRICT' as const } };
  it('workload, then namespace, then mesh, then STRICT', () => {
    expect(resolveMtlsMode(mesh, { namespace: 'secure', mtlsMode: 'PERMISSIVE' })).toBe('PERMISSIVE');
    expect(resolveMtlsMode(mesh, { namespace: 'secure' })).toBe('STRICT');
    expect(resolveMtlsMode(mesh, { namespace: 'other' })).toBe('PERMISSIVE');
    expect(resolveMtlsMode({ trustDomain: 'td' }, { namespace: 'other' })).toBe('STRICT');
  });
});
