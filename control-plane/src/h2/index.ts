/**
 * meshward's compact HTTP/2 + gRPC server (RFC 9113, PROTOCOL-HTTP2.md) for many long-lived, mostly idle
 * streams. `createGrpcServer()` is the entry point; see grpc-server.ts for the contract of each type.
 */
export { createGrpcServer, parseGrpcTimeout, percentEncodeGrpcMessage, percentDecodeGrpcMessage } from './grpc-server.js';
export type { CallHandler, GrpcServer, GrpcServerOptions, ServerCall, TlsServerOptions } from './grpc-server.js';
export { CompatCall, createCompatHandlers } from './grpc-js-compat.js';
export { GrpcStatus, H2Error, grpcStatusForH2Error, h2ErrorCodeName, h2ErrorCodeValue, isGrpcStatusCode } from './errors.js';
export type { GrpcStatusCode, H2ErrorCode } from './errors.js';
export { LIMITS as H2_ABUSE_LIMITS } from './connection.js';
