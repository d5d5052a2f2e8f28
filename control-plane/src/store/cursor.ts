import { StoreError } from './store-error.js';

/**
 * Opaque pagination cursors: base64url JSON. Callers must treat them as opaque; a cursor that does
 * not decode is refused with INVALID naming the `cursor` field rather than silently restarting.
 */
export function encodeCursor(value: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodeCursor<T extends Record<string, string | number>>(
  cursor: string,
  check: (v: Record<string, unknown>) => v is T,
): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || !check(parsed as Record<string, unknown>)) {
    throw new StoreError('INVALID', 'cursor is not one this server issued', {
      issues: [{ field: '/cursor', reason: 'is not a cursor returned by a previous page' }],
    });
  }
  return parsed as T;
}

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 1000;

export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new StoreError('INVALID', 'limit out of range', {
      issues: [{ field: '/limit', reason: `must be an integer from 1 to ${MAX_PAGE_LIMIT}` }],
    });
  }
  return limit;
}
