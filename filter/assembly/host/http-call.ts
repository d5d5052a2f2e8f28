// Outgoing HTTP calls (proxy_http_call). The response arrives in the root context's
// onHttpCallResponse(token, ...), where getHeaders(MapType.HttpCallResponseHeaders) and
// getHttpCallResponseBody() read it. Envoy requires :method, :path and :authority headers and a
// known cluster, else BadArgument.
import * as calls from "../abi/calls";
import { HeaderPair, serializePairs } from "../abi/pairs";
import { WasmResult } from "../abi/types";

const NO_PAIRS = new Array<HeaderPair>(0);

/** Dispatches a call; returns its token, or 0 when refused (see httpCallStatus()). */
export function httpCall(
  cluster: string,
  headers: Array<HeaderPair>,
  body: Uint8Array,
  trailers: Array<HeaderPair> = NO_PAIRS,
  timeoutMs: u32 = 5000,
): u32 {
  return calls.httpCall(String.UTF8.encode(cluster), serializePairs(headers), body, serializePairs(trailers), timeoutMs);
}

/** Status of the last httpCall. */
export function httpCallStatus(): WasmResult {
  return calls.lastStatus();
}

/** The callout status (code) of the current HTTP call response, and its message. */
export class CalloutStatus {
  constructor(public code: u32, public message: string) {}
}
export function getCalloutStatus(): CalloutStatus | null {
  const message = calls.getStatus();
  if (message === null) return null;
  return new CalloutStatus(calls.lastU32(), String.UTF8.decode(message));
}
