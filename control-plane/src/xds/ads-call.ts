import type { PeerCertificate } from 'node:tls';
import type { Metadata, ServerDuplexStream } from '@grpc/grpc-js';

/**
 * One ADS call as the xDS server sees it, whatever carries it: meshward's compact HTTP/2 server
 * (control-plane/src/h2, the default transport) or @grpc/grpc-js (`transport: 'grpc-js'`, and
 * `addTo(server)`). The shape is the h2 transport's `ServerCall`, so that transport needs no adapter
 * (no extra object per stream); grpc-js calls are wrapped by {@link adsCallFromGrpcJs}.
 *
 * Contract: the server sets the three callbacks right after the call starts. `onMessage` gets the
 * client's messages in order; `onEnd` runs when the client half-closes; `onClose` runs exactly once
 * when the call is over for any reason (ended, failed, cancelled, connection lost). `write` returns
 * false and drops the message once the call is closed; `onWritten` runs when the message has been
 * handed to the connection (flow control let it through), which is what slow-consumer detection
 * counts. `fail` sends a gRPC status (numeric) and message at once, dropping unsent messages.
 */
export interface AdsCall {
  readonly peer: string;
  readonly closed: boolean;
  onMessage: ((message: Buffer) => void) | undefined;
  onEnd: (() => void) | undefined;
  onClose: (() => void) | undefined;
  write(message: Uint8Array, onWritten?: () => void): boolean;
  end(): void;
  fail(code: number, message: string): void;
}

/** What authentication sees of a call when it starts (transport-independent). */
export interface AdsCallAuth {
  readonly metadata: Metadata;
  readonly peerCertificate: PeerCertificate | undefined;
  readonly transportSecurityType: string | undefined;
}

/** Adapts a grpc-js bidi call to {@link AdsCall}; the adapter owns the call's event listeners. */
export function adsCallFromGrpcJs(call: ServerDuplexStream<Buffer, Buffer>): AdsCall {
  let closed = false;
  const adapter: AdsCall = {
    get peer() {
      return call.getPeer();
    },
    get closed() {
      return closed || call.cancelled;
    },
    onMessage: undefined,
    onEnd: undefined,
    onClose: undefined,
    write(message, onWritten) {
      if (closed || call.cancelled) return false;
      const bytes = Buffer.isBuffer(message) ? message : Buffer.from(message.buffer, message.byteOffset, message.byteLength);
      if (onWritten === undefined) call.write(bytes);
      else call.write(bytes, onWritten);
      return true;
    },
    end() {
      if (closed) return;
      closed = true;
      call.end();
    },
    fail(code, message) {
      if (closed) return;
      closed = true;
      call.emit('error', { code, details: message });
    },
  };
  let finished = false;
  const finish = (): void => {
    closed = true;
    if (finished) return;
    finished = true;
    adapter.onClose?.();
  };
  call.on('data', (bytes: Buffer) => {
    if (!closed) adapter.onMessage?.(bytes);
  });
  call.on('end', () => {
    if (!closed) adapter.onEnd?.();
  });
  call.on('cancelled', finish);
  call.on('close', finish);
  call.on('error', finish);
  return adapter;
}
