/**
 * Error vocabulary of meshward's HTTP/2 + gRPC server: HTTP/2 error codes (RFC 9113 §7), gRPC status
 * codes (as @grpc/grpc-js `status`), the typed `H2Error`, and the one mapping of each to the wire.
 */

/** HTTP/2 error codes by name (RFC 9113 §7). `h2ErrorCodeValue()` maps a name to its wire value. */
export type H2ErrorCode =
  | 'NO_ERROR'
  | 'PROTOCOL_ERROR'
  | 'INTERNAL_ERROR'
  | 'FLOW_CONTROL_ERROR'
  | 'SETTINGS_TIMEOUT'
  | 'STREAM_CLOSED'
  | 'FRAME_SIZE_ERROR'
  | 'REFUSED_STREAM'
  | 'CANCEL'
  | 'COMPRESSION_ERROR'
  | 'CONNECT_ERROR'
  | 'ENHANCE_YOUR_CALM'
  | 'INADEQUATE_SECURITY'
  | 'HTTP_1_1_REQUIRED';

const H2_ERROR_VALUES: Readonly<Record<H2ErrorCode, number>> = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
};
const H2_ERROR_NAMES: readonly H2ErrorCode[] = Object.keys(H2_ERROR_VALUES) as H2ErrorCode[];

/** Wire value of an HTTP/2 error code. */
export function h2ErrorCodeValue(code: H2ErrorCode): number {
  return H2_ERROR_VALUES[code];
}

/** Name of a wire error code; unknown values (RFC 9113 §7: treat as INTERNAL_ERROR) map to 'INTERNAL_ERROR'. */
export function h2ErrorCodeName(value: number): H2ErrorCode {
  return H2_ERROR_NAMES[value] ?? 'INTERNAL_ERROR';
}

/** gRPC status codes (same numbers as @grpc/grpc-js `status`). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/** True for a number that is a gRPC status code (0..16). */
export function isGrpcStatusCode(value: unknown): value is GrpcStatusCode {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 16;
}

/**
 * The gRPC status a client sees when its stream ends with RST_STREAM carrying this HTTP/2 error code
 * (PROTOCOL-HTTP2.md, "Errors"). Used for the status reported to compat calls that were reset.
 */
export function grpcStatusForH2Error(code: H2ErrorCode): GrpcStatusCode {
  switch (code) {
    case 'REFUSED_STREAM':
      return GrpcStatus.UNAVAILABLE;
    case 'CANCEL':
      return GrpcStatus.CANCELLED;
    case 'ENHANCE_YOUR_CALM':
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case 'INADEQUATE_SECURITY':
      return GrpcStatus.PERMISSION_DENIED;
    default:
      return GrpcStatus.INTERNAL;
  }
}

/**
 * A protocol error on one connection. `scope` says what it ends: 'connection' → GOAWAY with `code` and
 * the message as debug data, then the socket closes; 'stream' → RST_STREAM `code` on `streamId` only.
 */
export class H2Error extends Error {
  override readonly name = 'H2Error';
  readonly code: H2ErrorCode;
  readonly scope: 'connection' | 'stream';
  /** The stream concerned (0 for connection-wide errors). */
  readonly streamId: number;
  constructor(code: H2ErrorCode, message: string, options: { scope?: 'connection' | 'stream'; streamId?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.scope = options.scope ?? 'connection';
    this.streamId = options.streamId ?? 0;
  }
}
