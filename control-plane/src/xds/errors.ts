import { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * Every error the xDS layer raises carries one of these codes. The mapping to gRPC status codes
 * lives in {@link grpcStatusOf} and nowhere else.
 */
export type XdsErrorCode =
  /** A snapshot (or one of its resources) is malformed: wrong type, missing name, duplicate name. */
  | 'INVALID_SNAPSHOT'
  /** A snapshot references a resource it does not contain (route → cluster, listener → route/secret…). */
  | 'INCONSISTENT_SNAPSHOT'
  /** A request on an ADS stream is malformed (undecodable bytes, missing type_url, unknown type_url). */
  | 'INVALID_REQUEST'
  /** The stream presented no credential, or one that the authenticator did not accept. */
  | 'UNAUTHENTICATED'
  /** The stream's credential is valid but it may not use this control plane (or this node id). */
  | 'PERMISSION_DENIED'
  /** The per-identity secret source failed. */
  | 'SECRETS_UNAVAILABLE'
  /** The client does not read its responses; too many are queued for it. */
  | 'SLOW_CONSUMER'
  /** The server is closing; the client should reconnect elsewhere or later. */
  | 'SHUTTING_DOWN'
  /** Bad options given to a factory. */
  | 'INVALID_ARGUMENT';

/** Typed error of the xDS layer: a stable `code`, a human message naming the field/resource and reason. */
export class XdsError extends Error {
  override readonly name = 'XdsError';
  readonly code: XdsErrorCode;
  /** For snapshot errors: `typeUrl` and resource name at fault, when known. */
  readonly typeUrl: string | undefined;
  readonly resourceName: string | undefined;

  constructor(
    code: XdsErrorCode,
    message: string,
    options: { cause?: unknown; typeUrl?: string; resourceName?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.typeUrl = options.typeUrl;
    this.resourceName = options.resourceName;
  }

  /** Wraps anything thrown into an XdsError, keeping XdsErrors as they are. */
  static from(err: unknown, fallback: XdsErrorCode = 'INVALID_ARGUMENT'): XdsError {
    if (err instanceof XdsError) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new XdsError(fallback, message, { cause: err });
  }
}

/** The one place where XdsError codes become gRPC status codes. */
export function grpcStatusOf(code: XdsErrorCode): GrpcStatus {
  switch (code) {
    case 'UNAUTHENTICATED':
      return GrpcStatus.UNAUTHENTICATED;
    case 'PERMISSION_DENIED':
      return GrpcStatus.PERMISSION_DENIED;
    case 'INVALID_REQUEST':
    case 'INVALID_ARGUMENT':
      return GrpcStatus.INVALID_ARGUMENT;
    case 'SECRETS_UNAVAILABLE':
    case 'SHUTTING_DOWN':
      return GrpcStatus.UNAVAILABLE;
    case 'SLOW_CONSUMER':
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case 'INVALID_SNAPSHOT':
    case 'INCONSISTENT_SNAPSHOT':
      return GrpcStatus.FAILED_PRECONDITION;
  }
}
