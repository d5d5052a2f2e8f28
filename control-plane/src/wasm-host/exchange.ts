// Drives a whole request/response exchange through a stream, in chunks, the way a client and an
// upstream server would, and reports what each side received.
import { toBytes, type BytesInput } from './bytes.js';
import type { HttpStream, LocalReply, ReceivedMessage, StreamState } from './http-stream.js';
import type { HeaderPair } from './pairs.js';

export interface MessageSpec {
  readonly headers: readonly HeaderPair[];
  /** Body, sent in `chunks` (an explicit list) or `chunkSize`-byte frames. */
  readonly body?: BytesInput;
  /** Explicit frames (overrides body/chunkSize). */
  readonly chunks?: readonly BytesInput[];
  /** Frame size for `body`. Default: the whole body in one frame. */
  readonly chunkSize?: number;
  readonly trailers?: readonly HeaderPair[];
}

export interface ExchangeResult {
  /** What the upstream server received. */
  readonly upstream: ReceivedMessage;
  /** What the client received. */
  readonly downstream: ReceivedMessage;
  readonly localReply: LocalReply | undefined;
  /** Stream state after the exchange, before teardown (stalled = a stop without continue). */
  readonly state: StreamState;
  /** The response was sent by the upstream (false when the request never completed upstream). */
  readonly upstreamResponded: boolean;
}

function frames(spec: MessageSpec): Uint8Array[] {
  if (spec.chunks) return spec.chunks.map(toBytes);
  if (spec.body === undefined) return [];
  const body = toBytes(spec.body);
  if (body.length === 0) return [];
  const size = spec.chunkSize ?? body.length;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunkSize: must be an integer >= 1, got ${String(spec.chunkSize)}`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < body.length; i += size) out.push(body.subarray(i, i + size));
  return out;
}

function send(
  spec: MessageSpec,
  onHeaders: (h: readonly HeaderPair[], eos: boolean) => unknown,
  onData: (c: Uint8Array, eos: boolean) => unknown,
  onTrailers: (t: readonly HeaderPair[]) => unknown,
  stop: () => boolean,
): void {
  const body = frames(spec);
  const hasTrailers = (spec.trailers?.length ?? 0) > 0;
  onHeaders(spec.headers, body.length === 0 && !hasTrailers);
  for (let i = 0; i < body.length; i++) {
    if (stop()) return;
    onData(body[i]!, i === body.length - 1 && !hasTrailers);
  }
  if (hasTrailers && !stop()) onTrailers(spec.trailers!);
}

/**
 * Sends `request`; if the upstream received the complete request and no local reply was sent,
 * sends `response` from the upstream. Does not tear the stream down (call stream.complete()), so
 * a test can still look at the state. Stops sending once the stream is reset or answered locally.
 */
export function runExchange(stream: HttpStream, request: MessageSpec, response?: MessageSpec): ExchangeResult {
  const stop = (): boolean => stream.state === 'reset' || stream.localReply !== undefined;
  send(
    request,
    (h, eos) => stream.requestHeaders(h, eos),
    (c, eos) => stream.requestBody(c, eos),
    (t) => stream.requestTrailers(t),
    stop,
  );
  let upstreamResponded = false;
  if (response && !stop() && stream.upstream.endStream && !stream.upstream.reset) {
    upstreamResponded = true;
    send(
      response,
      (h, eos) => stream.responseHeaders(h, eos),
      (c, eos) => stream.responseBody(c, eos),
      (t) => stream.responseTrailers(t),
      () => stream.state === 'reset',
    );
  }
  return {
    upstream: stream.upstream,
    downstream: stream.downstream,
    localReply: stream.localReply,
    state: stream.state,
    upstreamResponded,
  };
}
