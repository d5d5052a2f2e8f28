/**
 * Durations in settings: a number of milliseconds, or a string of one or more `<number><unit>`
 * parts with units ms, s, m, h, d (e.g. `250ms`, `1.5s`, `24h`, `1h30m`). Pure.
 */
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/** Milliseconds for `value`, or a reason string when it is not a duration. */
export function parseDuration(value: unknown): number | string {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? value : `must be a non-negative number of milliseconds, got ${value}`;
  }
  if (typeof value !== 'string') return `must be a duration such as "30s" or a number of milliseconds, got ${typeOf(value)}`;
  const s = value.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  if (s === '') return 'must be a duration such as "30s", got an empty string';
  let total = 0;
  PART.lastIndex = 0;
  let consumed = 0;
  for (let m = PART.exec(s); m !== null; m = PART.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    consumed = PART.lastIndex;
  }
  if (consumed !== s.length) return `must be a duration such as "250ms", "30s", "24h" or "1h30m", got "${value}"`;
  return total;
}

/** Human form of a millisecond count, for the banner and messages (`86400000` → `24h`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  // Days only for whole multi-day spans: "24h" reads better than "1d" for a certificate lifetime.
  const units = ms >= 2 * 86_400_000 && ms % 86_400_000 === 0 ? ([['d', 86_400_000]] as const) : ([['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const);
  for (const [unit, size] of units) {
    if (rest >= size) {
      const n = Math.floor(rest / size);
      parts.push(`${n}${unit}`);
      rest -= n * size;
    }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('');
}

export function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}
