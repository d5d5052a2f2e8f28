/**
 * Path patterns used by operations in authorization rules:
 * - `/v1/embeddings`: exactly that path;
 * - `/v1/models*`: every path starting with `/v1/models`;
 * - `/v2/models/*\/infer`: `*` as a whole segment matches exactly one non-empty segment.
 */
export type PathPattern =
  | { readonly kind: 'exact'; readonly path: string }
  | { readonly kind: 'prefix'; readonly prefix: string }
  /** RE2-compatible, anchored by the matcher (Envoy's safe_regex matches the whole value). */
  | { readonly kind: 'regex'; readonly regex: string };

const PATH_CHARS = /^\/[A-Za-z0-9._~!$&'()+,;=:@%/*-]*$/;

/** Escapes RE2/JS regex metacharacters. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Parses a path pattern; returns the reason as a string when invalid. */
export function parsePathPattern(p: string): PathPattern | string {
  if (!p.startsWith('/')) return "must start with '/'";
  if (!PATH_CHARS.test(p)) return 'has characters not allowed in a URL path (no spaces, query or fragment)';
  const trailing = p.endsWith('*') && !p.endsWith('/*');
  const body = trailing ? p.slice(0, -1) : p;
  const segments = body.split('/');
  const hasSegmentWildcard = segments.some((s) => s === '*');
  if (segments.some((s) => s.includes('*') && s !== '*')) {
    return "'*' must be a whole path segment or the last character";
  }
  if (!hasSegmentWildcard) return trailing ? { kind: 'prefix', prefix: body } : { kind: 'exact', path: body };
  const regex = segments.map((s) => (s === '*' ? '[^/]+' : escapeRegex(s))).join('/') + (trailing ? '.*' : '');
  return { kind: 'regex', regex };
}

/** True when `path` (without query) matches the pattern. */
export function pathMatches(pattern: PathPattern, path: string): boolean {
  switch (pattern.kind) {
    case 'exact':
      return path === pattern.path;
    case 'prefix':
      return path.startsWith(pattern.prefix);
    case 'regex':
      return new RegExp(`^(?:${pattern.regex})$`).test(path);
  }
}
