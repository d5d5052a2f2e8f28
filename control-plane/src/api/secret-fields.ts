import { createHash } from 'node:crypto';
import { ApiError } from './problem.js';

/**
 * Write-only fields (e.g. a DLP policy's `config.redaction.hash_key`): stored as sent, but never
 * shown — responses and the audit view carry `redacted:sha256:<12 hex>` instead (enough to tell two
 * keys apart, useless to recover one). Sending the placeholder back on PUT keeps the stored value,
 * so GET → edit → PUT works without the secret.
 */
export type SecretPath = readonly string[];

const PLACEHOLDER = /^redacted:sha256:[0-9a-f]{12}$/;

export function placeholderOf(value: string): string {
  return `redacted:sha256:${createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 12)}`;
}

function get(obj: unknown, path: SecretPath): unknown {
  let v = obj;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** Returns a copy of `obj` with the value at `path` replaced (parents copied, not mutated). */
function setCopy(obj: unknown, path: SecretPath, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  const base = obj !== null && typeof obj === 'object' ? (obj as Record<string, unknown>) : {};
  return { ...base, [head]: setCopy(base[head], rest, value) };
}

/** The object with every secret string replaced by its placeholder (for responses and audit views). */
export function maskSecrets<T>(obj: T, paths: readonly SecretPath[]): T {
  let out: unknown = obj;
  for (const p of paths) {
    const v = get(out, p);
    if (typeof v === 'string' && !PLACEHOLDER.test(v)) out = setCopy(out, p, placeholderOf(v));
  }
  return out as T;
}

/**
 * Puts the stored secret back where the request sent its placeholder. A placeholder that does not
 * match the stored value (or with nothing stored) is refused, naming the field.
 */
export function restoreSecrets(spec: Record<string, unknown>, current: unknown, paths: readonly SecretPath[]): Record<string, unknown> {
  let out: unknown = spec;
  for (const p of paths) {
    const sent = get(out, p);
    if (typeof sent !== 'string' || !PLACEHOLDER.test(sent)) continue;
    const stored = get(current, p);
    if (typeof stored !== 'string' || placeholderOf(stored) !== sent) {
      throw ApiError.invalid(`/${p.join('/')}`, 'is a redacted placeholder that does not match the stored value; send the secret itself');
    }
    out = setCopy(out, p, stored);
  }
  return out as Record<string, unknown>;
}
