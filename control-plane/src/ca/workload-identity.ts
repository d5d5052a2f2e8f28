/**
 * Strict validation of the identities the CA issues for. Builds on model/spiffe-id.ts (the SPIFFE
 * spec's syntax rules) and adds meshward's own: the ID is in this CA's trust domain and has exactly
 * the `/ns/<namespace>/sa/<service-account>` form with RFC 1123 labels.
 */
import { formatSpiffeId, isValidIdentityName, isValidTrustDomain, parseSpiffeId } from '../model/spiffe-id.js';
import { CaError } from './ca-error.js';

/** A validated workload identity. `spiffeId` is canonical (what goes into the URI SAN). */
export interface WorkloadIdentity {
  readonly spiffeId: string;
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** Throws INVALID_ARGUMENT naming `field` unless `trustDomain` is a valid SPIFFE trust domain. */
export function assertTrustDomain(trustDomain: unknown, field = 'trustDomain'): string {
  if (typeof trustDomain !== 'string' || !isValidTrustDomain(trustDomain)) {
    throw new CaError(
      'INVALID_ARGUMENT',
      `${field}: '${String(trustDomain)}' is not a SPIFFE trust domain (lower-case letters, digits, '.', '-', '_'; 1-255 chars; no scheme, port or path)`,
    );
  }
  return trustDomain;
}

/**
 * Parses `spiffeId` as a workload identity of `trustDomain`.
 * @throws CaError INVALID_SPIFFE_ID with the reason (syntax, other trust domain, not ns/sa form).
 */
export function parseWorkloadIdentity(spiffeId: unknown, trustDomain: string, field = 'spiffeId'): WorkloadIdentity {
  if (typeof spiffeId !== 'string') throw new CaError('INVALID_SPIFFE_ID', `${field}: must be a string`);
  const parsed = parseSpiffeId(spiffeId);
  if (typeof parsed === 'string') throw new CaError('INVALID_SPIFFE_ID', `${field}: '${spiffeId}' is not a SPIFFE ID: ${parsed}`);
  if (parsed.trustDomain !== trustDomain) {
    throw new CaError('INVALID_SPIFFE_ID', `${field}: '${spiffeId}' is in trust domain '${parsed.trustDomain}', not '${trustDomain}'`);
  }
  if (parsed.namespace === undefined || parsed.serviceAccount === undefined) {
    throw new CaError('INVALID_SPIFFE_ID', `${field}: '${spiffeId}' must have the form spiffe://${trustDomain}/ns/<namespace>/sa/<service-account>`);
  }
  if (!isValidIdentityName(parsed.namespace)) {
    throw new CaError('INVALID_SPIFFE_ID', `${field}: namespace '${parsed.namespace}' must be an RFC 1123 label (lower-case letters, digits, '-'; max 63)`);
  }
  if (!isValidIdentityName(parsed.serviceAccount)) {
    throw new CaError('INVALID_SPIFFE_ID', `${field}: service account '${parsed.serviceAccount}' must be an RFC 1123 label (lower-case letters, digits, '-'; max 63)`);
  }
  return { spiffeId, trustDomain, namespace: parsed.namespace, serviceAccount: parsed.serviceAccount };
}

/** Builds and validates the identity of `namespace`/`serviceAccount` in `trustDomain`. */
export function workloadIdentity(trustDomain: string, namespace: string, serviceAccount: string): WorkloadIdentity {
  return parseWorkloadIdentity(formatSpiffeId(trustDomain, namespace, serviceAccount), trustDomain);
}
