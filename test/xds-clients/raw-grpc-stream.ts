import * as http2 from 'node:http2';
import { EventEmitter } from 'node:events';

/** How to reach the control plane. One `connect()` = one HTTP/2 connection, as one Envoy has. */
export interface ConnectOptions {
  /** `host:port`. */
  readonly address: string;
  /** TLS: PEM trust bundle for the server, and optionally a client certificate (mTLS). */
  readonly tls?: { readonly ca: string | Buffer; readonly cert?: string | Buffer; readonly key?: string | Buffer; readonly servername?: string };
}

export interface GrpcStatus {
  readonly code: number;
  readonly details: string;
}

/**
 * A raw gRPC bidirectional stream over node:http2 (no grpc-js): framing by hand, so tests see the
 * exact bytes and statuses the server produces. Emits 'message' (Buffer payload), 'status'
 * (GrpcStatus, once) and 'headers'.
 */
export class RawGrpcStream extends EventEmitter {
  private buffered: Buffer = Buffer.alloc(0);
  private statusSeen = false;
  /** Resolves with the final status (from trailers, trailers-only headers or a transport error). */
  readonly status: Promise<GrpcStatus>;

  constructor(private readonly stream: http2.ClientHttp2Stream) {
    super();
    this.status = new Promise((resolve) => this.once('status', resolve));
    stream.on('response', (headers) => {
      this.emit('headers', headers);
      if (headers['grpc-status'] !== undefined) this.finish(headers);
    });
    stream.on('trailers', (trailers) => this.finish(trailers));
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', (err: Error) => this.setStatus({ code: 14, details: `transport: ${err.message}` }));
    stream.on('close', () => this.setStatus({ code: 14, details: 'stream closed without status' }));
  }

  private finish(headers: http2.IncomingHttpHeaders): void {
    const code = Number(headers['grpc-status']);
    const raw = headers['grpc-message'];
    const details = typeof raw === 'string' ? decodeURIComponent(raw) : '';
    this.setStatus({ code, details });
  }

  private setStatus(s: GrpcStatus): void {
    if (this.statusSeen) return;
    this.statusSeen = true;
    this.emit('status', s);
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 5) {
      const len = this.buffered.readUInt32BE(1);
      if (this.buffered.length < 5 + len) break;
      const payload = this.buffered.subarray(5, 5 + len);
      this.buffered = this.buffered.subarray(5 + len);
      this.emit('message', payload);
    }
  }

  /** Writes one gRPC message (uncompressed). */
  write(payload: Uint8Array): void {
    const frame = Buffer.allocUnsafe(5 + payload.length);
    frame[0] = 0;
    frame.writeUInt32BE(payload.length, 1);
    frame.set(payload, 5);
    this.stream.write(frame);
  }

  /** Writes raw bytes without gRPC framing (to send garbage). */
  writeRaw(bytes: Uint8Array): void {
    this.stream.write(bytes);
  }

  /** Stops reading (HTTP/2 flow control then stops the server's sends): a client that hangs. */
  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  /** Half-closes the request side. */
  end(): void {
    this.stream.end();
  }

  cancel(): void {
    this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }
}

/** Opens an HTTP/2 connection to the control plane. */
export function connect(options: ConnectOptions): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const authority = options.tls === undefined ? `http://${options.address}` : `https://${options.address}`;
    const session = http2.connect(authority, options.tls === undefined ? {} : {
      ca: options.tls.ca,
      ...(options.tls.cert !== undefined ? { cert: options.tls.cert } : {}),
      ...(options.tls.key !== undefined ? { key: options.tls.key } : {}),
      ...(options.tls.servername !== undefined ? { servername: options.tls.servername } : {}),
    });
    const onError = (err: Error): void => reject(err);
    session.once('error', onError);
    session.once('connect', () => {
      session.off('error', onError);
      session.on('error', () => {});
      resolve(session);
    });
  });
}

/** Starts a gRPC call on an open session. */
export function openStream(
  session: http2.ClientHttp2Session,
  path: string,
  metadata: Readonly<Record<string, string>> = {},
): RawGrpcStream {
  const stream = session.request({
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...metadata,
  });
  return new RawGrpcStream(stream);
}

export const SOTW_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
export const DELTA_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources';
