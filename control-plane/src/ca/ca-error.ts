import { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * Every error ca/ raises carries one of these codes; {@link grpcStatusOfCaError} is the one place
 * they become gRPC status codes (the REST API maps them to HTTP in its own error handler).
 */
export type CaErrorCode =
  /** A factory option or an API argument is invalid (the message names the field and the reason). */
  | 'INVALID_ARGUMENT'
  /** A string is not a valid SPIFFE ID / workload identity for this trust domain. */
  | 'INVALID_SPIFFE_ID'
  /** Operator-supplied CA files are unreadable, malformed, or do not form a valid chain. */
  | 'CA_LOAD_FAILED'
  /** The stored CA key could not be decrypted (missing or wrong passphrase, tampered file). */
  | 'CA_KEY_LOCKED'
  /** Persistent CA state is missing a piece or is inconsistent. */
  | 'CA_STATE_CORRUPT'
  /** A stream presented no credential, or one that is unknown, expired, revoked or forged. */
  | 'UNAUTHENTICATED'
  /** The credential is valid but does not allow this (e.g. a revoked identity asking for a key). */
  | 'PERMISSION_DENIED'
  /** A certificate, token or authority named by the caller does not exist. */
  | 'NOT_FOUND'
  /** The operation conflicts with the current state (e.g. a CA rotation is already running). */
  | 'CONFLICT'
  /** Issuing a certificate failed (key generation or signing). */
  | 'ISSUANCE_FAILED';

/** Typed error of the CA: a stable `code` and a message naming the field/file and the reason. */
export class CaError extends Error {
  override readonly name = 'CaError';
  readonly code: CaErrorCode;

  constructor(code: CaErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }

  /** Wraps anything thrown into a CaError, keeping CaErrors as they are. */
  static from(err: unknown, fallback: CaErrorCode): CaError {
    if (err instanceof CaError) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new CaError(fallback, message, { cause: err });
  }
}

/** The one place where CaError codes become gRPC status codes. */
export function grpcStatusOfCaError(code: CaErrorCode): GrpcStatus {
  switch (code) {
    case 'UNAUTHENTICATED':
      return GrpcStatus.UNAUTHENTICATED;
    case 'PERMISSION_DENIED':
      return GrpcStatus.PERMISSION_DENIED;
    case 'INVALID_ARGUMENT':
    case 'INVALID_SPIFFE_ID':
      return GrpcStatus.INVALID_ARGUMENT;
    case 'NOT_FOUND':
      return GrpcStatus.NOT_FOUND;
    case 'CONFLICT':
      return GrpcStatus.FAILED_PRECONDITION;
    case 'CA_LOAD_FAILED':
    case 'CA_KEY_LOCKED':
    case 'CA_STATE_CORRUPT':
    case 'ISSUANCE_FAILED':
      return GrpcStatus.UNAVAILABLE;
  }
}
