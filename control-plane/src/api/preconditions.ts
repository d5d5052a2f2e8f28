import { ApiError } from './problem.js';

/**
 * HTTP preconditions over resource versions (RFC 9110 §13). A resource's ETag is its
 * resourceVersion as a strong entity tag: `"12"`.
 */

export function etagOf(resourceVersion: number): string {
  return `"${resourceVersion}"`;
}

export type IfMatch = { readonly any: true } | { readonly any: false; readonly versions: readonly number[] };

const TAG_RE = /^(?:W\/)?"(\d{1,15})"$/;

/** Parses If-Match / If-None-Match. Undefined when absent; a 400 naming the header when malformed. */
export function parseEntityTags(header: string | string[] | undefined, headerName: string): IfMatch | undefined {
  if (header === undefined) return undefined;
  const raw = Array.isArray(header) ? header.join(',') : header;
  if (raw.trim() === '*') return { any: true };
  const versions: number[] = [];
  for (const part of raw.split(',')) {
    const m = TAG_RE.exec(part.trim());
    if (m === null) {
      throw ApiError.invalid(
        headerName,
        `must be "*" or a list of entity tags as returned in ETag (e.g. "12"); got ${JSON.stringify(part.trim()).slice(0, 80)}`,
        'headers',
      );
    }
    versions.push(Number(m[1]));
  }
  return { any: false, versions };
}

/**
 * Checks If-Match against the current version and returns the version to hand to the store as
 * its compare-and-swap guard. Weak tags compare weakly (we only issue strong ones, so equal digits
 * mean equal versions).
 */
export function checkIfMatch(ifMatch: IfMatch, current: number, resource: string): number {
  if (ifMatch.any || ifMatch.versions.includes(current)) return current;
  throw new ApiError(
    'PRECONDITION_FAILED',
    `${resource} is at version ${current}; If-Match named ${ifMatch.versions.join(', ')}. Read it again, re-apply your change and retry.`,
    { currentVersion: current },
  );
}
