/**
 * SPIFFE IDs as meshward uses them: `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`.
 * Pure helpers shared by the model's validation, translate/ (RBAC principals, SAN matchers) and the CA.
 */

/** A parsed SPIFFE ID. `namespace`/`serviceAccount` are set only for the `/ns/<ns>/sa/<sa>` form. */
export interface SpiffeId {
  readonly trustDomain: string;
  /** The path, starting with `/`, or `''` for a bare trust-domain ID. */
  readonly path: string;
  readonly namespace?: string;
  readonly serviceAccount?: string;
}

/** Trust domain per the SPIFFE spec: lower-case letters, digits, `.`, `-`, `_`; at most 255 chars. */
const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
/** Path segment per the SPIFFE spec: letters, digits, `.`, `-`, `_`; not `.` or `..`. */
const PATH_SEGMENT = /^[A-Za-z0-9._-]+$/;
/** Namespace and service-account names: Kubernetes-style DNS labels (RFC 1123), max 63. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function isValidTrustDomain(td: string): boolean {
  return TRUST_DOMAIN.test(td) && !td.startsWith('.') && !td.endsWith('.');
}

/** True for a namespace / service-account name usable in an identity (RFC 1123 label). */
export function isValidIdentityName(name: string): boolean {
  return DNS_LABEL.test(name);
}

/** Formats the workload identity. Does not validate; use {@link parseSpiffeId} on untrusted input. */
export function formatSpiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/**
 * Parses a SPIFFE ID. Returns the reason as a string when it is not one: wrong scheme, bad trust
 * domain, empty/dot segments, query/fragment/port/userinfo, or longer than 2048 bytes.
 */
export function parseSpiffeId(id: string): SpiffeId | string {
  if (id.length > 2048) return 'longer than 2048 characters';
  if (!id.startsWith('spiffe://')) return "must start with 'spiffe://'";
  const rest = id.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  const td = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash);
  if (!isValidTrustDomain(td)) return `trust domain '${td}' must be lower-case letters, digits, '.', '-' or '_'`;
  if (path !== '') {
    const segments = path.slice(1).split('/');
    for (const seg of segments) {
      if (seg === '') return 'path has an empty segment (or a trailing slash)';
      if (seg === '.' || seg === '..') return "path segments '.' and '..' are not allowed";
      if (!PATH_SEGMENT.test(seg)) return `path segment '${seg}' has characters other than letters, digits, '.', '-', '_'`;
    }
    if (segments.length === 4 && segments[0] === 'ns' && segments[2] === 'sa') {
      return { trustDomain: td, path, namespace: segments[1]!, serviceAccount: segments[3]! };
    }
  }
  return { trustDomain: td, path };
}

/**
 * A caller pattern in an authorization rule's `from`:
 * - `spiffe://td/ns/<ns>/sa/<sa>` (or any other full SPIFFE ID): exactly that identity;
 * - `spiffe://td/ns/<ns>/*`: every identity in that namespace of that trust domain;
 * - `spiffe://td/*`: every identity of that trust domain;
 * - `*`: any authenticated peer (one that presented a certificate the mesh CA trusts).
 */
export type PrincipalPattern =
  | { readonly kind: 'exact'; readonly spiffeId: string }
  | { readonly kind: 'namespace'; readonly trustDomain: string; readonly namespace: string }
  | { readonly kind: 'trustDomain'; readonly trustDomain: string }
  | { readonly kind: 'authenticated' };

/** Parses a caller pattern (see {@link PrincipalPattern}); returns the reason as a string if invalid. */
export function parsePrincipalPattern(pattern: string): PrincipalPattern | string {
  if (pattern === '*') return { kind: 'authenticated' };
  if (pattern.endsWith('/*')) {
    const base = parseSpiffeId(pattern.slice(0, -2));
    if (typeof base === 'string') return base;
    if (base.path === '') return { kind: 'trustDomain', trustDomain: base.trustDomain };
    const m = /^\/ns\/([^/]+)$/.exec(base.path);
    if (m && isValidIdentityName(m[1]!)) return { kind: 'namespace', trustDomain: base.trustDomain, namespace: m[1]! };
    return "a wildcard is only allowed as 'spiffe://<td>/*' or 'spiffe://<td>/ns/<namespace>/*'";
  }
  if (pattern.includes('*')) return "'*' is only allowed alone or as the last path segment";
  const id = parseSpiffeId(pattern);
  if (typeof id === 'string') return id;
  if (id.path === '') return "a bare trust domain must be written 'spiffe://<td>/*'";
  return { kind: 'exact', spiffeId: pattern };
}

/** True when `spiffeId` (a caller's identity, or undefined for plaintext) matches the pattern. */
export function principalMatches(pattern: PrincipalPattern, spiffeId: string | undefined): boolean {
  if (spiffeId === undefined) return false;
  switch (pattern.kind) {
    case 'authenticated':
      return true;
    case 'exact':
      return pattern.spiffeId === spiffeId;
    case 'namespace':
      return spiffeId.startsWith(`spiffe://${pattern.trustDomain}/ns/${pattern.namespace}/`);
    case 'trustDomain':
      return spiffeId.startsWith(`spiffe://${pattern.trustDomain}/`);
  }
}
