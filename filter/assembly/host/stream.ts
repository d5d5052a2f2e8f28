// Stream control: local replies, continue and close.
//
// Envoy contract: sendLocalResponse from a request callback stops the request and sends the reply
// through the encoder chain, this filter's onResponseHeaders/onResponseBody included; from a
// response callback it is sent directly if the response headers have not gone out yet, otherwise
// the stream is reset. From a root context it does nothing (Ok). The callback's own return value
// is then ignored (Envoy stops iteration). grpcStatus -1 means "no grpc-status".
import * as calls from "../abi/calls";
import { HeaderPair, serializePairs } from "../abi/pairs";
import { StreamType, WasmResult } from "../abi/types";

export { StreamType };

const NO_HEADERS = new Array<HeaderPair>(0);

/** Sends a local reply with a byte body. `details` appears in Envoy's response code details. */
export function sendLocalResponse(
  statusCode: u32,
  details: string,
  body: Uint8Array,
  headers: Array<HeaderPair> = NO_HEADERS,
  grpcStatus: i32 = -1,
): WasmResult {
  return calls.sendLocalResponse(statusCode, String.UTF8.encode(details), body, serializePairs(headers), grpcStatus);
}

/** Sends a local reply with a UTF-8 string body. */
export function sendLocalResponseString(
  statusCode: u32,
  details: string,
  body: string,
  headers: Array<HeaderPair> = NO_HEADERS,
  grpcStatus: i32 = -1,
): WasmResult {
  return sendLocalResponse(statusCode, details, Uint8Array.wrap(String.UTF8.encode(body)), headers, grpcStatus);
}

/** Resumes a request stopped by an earlier callback. */
export function continueRequest(): WasmResult {
  return calls.continueStream(<u32>StreamType.HttpRequest);
}

/** Resumes a response stopped by an earlier callback. */
export function continueResponse(): WasmResult {
  return calls.continueStream(<u32>StreamType.HttpResponse);
}

/** Resets the stream (Envoy's details: wasm_close_stream). */
export function closeRequest(): WasmResult {
  return calls.closeStream(<u32>StreamType.HttpRequest);
}

export function closeResponse(): WasmResult {
  return calls.closeStream(<u32>StreamType.HttpResponse);
}

/** Makes later host calls act on context `contextId` (e.g. to resume a stream from onTick). */
export function setEffectiveContext(contextId: u32): WasmResult {
  return calls.setEffectiveContext(contextId);
}

/** Tells the host a root context that returned false from onDone has finished. */
export function done(): WasmResult {
  return calls.done();
}
