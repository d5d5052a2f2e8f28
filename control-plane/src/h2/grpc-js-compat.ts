/**
 * Serves @grpc/grpc-js services (ServiceDefinition + implementation, as `grpc.Server#addService` takes
 * them) on meshward's native `ServerCall`s, so existing grpc-js handlers (e.g. the ALS service) run
 * unchanged. Unary, client-streaming, server-streaming and bidi.
 *
 * The call objects offer what grpc-js handlers use: `metadata`, `request` (unary, server-streaming),
 * `cancelled`, `getPeer()`, `getAuthContext()`, `getPath()`, `getDeadline()`, `sendMetadata()`,
 * EventEmitter events 'data' | 'end' | 'error' | 'close' | 'cancelled', `pause()`/`resume()` (backpressure:
 * a paused call stops returning flow-control credit), `write(message, cb)`, `end(trailers?)`,
 * `emit('error', { code, details, metadata? })` to end with that status, and for unary / client-streaming
 * `callback(err, value, trailers?)` where err is a ServiceError-like { code, details } or an Error (→ UNKNOWN).
 *
 * Readable side as in Node streams: messages wait (and the client stalls at the stream window) until a
 * 'data' listener is attached or resume() is called; 'end' follows the last message. 'close' is emitted
 * exactly once when the call is over; before it, 'cancelled' when the call ended without a status from
 * the handler (client RST_STREAM, connection loss, deadline, server shutdown), with `cancelled` = true.
 * These objects are EventEmitters (heavier than native calls): use native handlers for the many-streams case.
 */
import { EventEmitter } from 'node:events';
import { Metadata, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import { GrpcStatus, isGrpcStatusCode } from './errors.js';
import type { CallHandler, ServerCall } from './grpc-server.js';

type Deserialize = (bytes: Buffer) => unknown;
type Serialize = (value: unknown) => Buffer;
type AnyFunction = (...args: unknown[]) => unknown;

/** A status a handler ends a call with (grpc-js ServiceError shape, or any Error → UNKNOWN). */
function statusOf(err: unknown): { code: number; details: string; metadata: Metadata | undefined } {
  const e = err as { code?: unknown; details?: unknown; message?: unknown; metadata?: unknown } | null | undefined;
  const code = e !== null && e !== undefined && isGrpcStatusCode(e.code) ? e.code : GrpcStatus.UNKNOWN;
  const details = typeof e?.details === 'string' ? e.details : typeof e?.message === 'string' ? e.message : 'Unknown Error';
  return { code: code === 0 ? GrpcStatus.UNKNOWN : code, details, metadata: e?.metadata instanceof Metadata ? e.metadata : undefined };
}

/** grpc-js-style call object over a native ServerCall. */
export class CompatCall extends EventEmitter {
  readonly metadata: Metadata;
  /** The request message (unary and server-streaming calls). */
  request: unknown = undefined;
  cancelled = false;
  private readonly native: ServerCall;
  private readonly path: string;
  private readonly serialize: Serialize;
  private readonly deserialize: Deserialize;
  /** null: not flowing yet (waiting for a 'data' listener); true: flowing; false: paused by the handler. */
  private flowing: boolean | null = null;
  private finished = false;

  constructor(native: ServerCall, metadata: Metadata, path: string, serialize: Serialize, deserialize: Deserialize, readable: boolean) {
    super();
    this.native = native;
    this.metadata = metadata;
    this.path = path;
    this.serialize = serialize;
    this.deserialize = deserialize;
    // As grpc-js: an 'error' emitted by the handler ends the call with that status.
    this.on('error', (err: unknown) => {
      const status = statusOf(err);
      this.sendStatus(status.code, status.details, status.metadata);
    });
    native.onClose = () => {
      if (!this.finished) {
        this.finished = true;
        this.cancelled = true;
        this.emit('cancelled', 'cancelled');
      }
      this.emit('close');
    };
    if (readable) {
      native.pause();
      native.onMessage = (bytes) => {
        let message: unknown;
        try {
          message = this.deserialize(bytes);
        } catch (err) {
          this.sendStatus(GrpcStatus.INTERNAL, `Failed to deserialize the request message: ${(err as Error).message}`, undefined);
          return;
        }
        this.emit('data', message);
      };
      native.onEnd = () => {
        this.emit('end');
      };
    }
  }

  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    super.on(event, listener);
    if (event === 'data' && this.flowing === null) this.resume();
    return this;
  }
  override addListener(event: string | symbol, listener: (...args: any[]) => void): this {
    return this.on(event, listener);
  }
  override once(event: string | symbol, listener: (...args: any[]) => void): this {
    super.once(event, listener);
    if (event === 'data' && this.flowing === null) this.resume();
    return this;
  }

  /** Stops 'data' events; the client stalls once the stream window is used up. */
  pause(): this {
    this.flowing = false;
    this.native.pause();
    return this;
  }
  /** Resumes 'data' events (on the next tick, as Node streams do). */
  resume(): this {
    this.flowing = true;
    process.nextTick(() => {
      if (this.flowing === true) this.native.resume();
    });
    return this;
  }
  isPaused(): boolean {
    return this.flowing === false;
  }

  getPeer(): string {
    return this.native.peer;
  }
  getAuthContext(): { transportSecurityType?: string; sslPeerCertificate?: PeerCertificate } {
    if (!this.native.secure) return {};
    const cert = this.native.peerCertificate;
    return cert === undefined ? { transportSecurityType: 'ssl' } : { transportSecurityType: 'ssl', sslPeerCertificate: cert };
  }
  getPath(): string {
    return this.path;
  }
  getDeadline(): Date | number {
    return this.native.deadline === Infinity ? Infinity : new Date(this.native.deadline);
  }
  sendMetadata(metadata: Metadata): void {
    this.native.sendHeaders(metadata);
  }

  /** Writes one response message; `cb` runs once it is handed to the socket (with an Error if the call is over). */
  write(message: unknown, encodingOrCb?: unknown, cb?: (err?: Error | null) => void): boolean {
    const done = (typeof encodingOrCb === 'function' ? encodingOrCb : cb) as ((err?: Error | null) => void) | undefined;
    let bytes: Buffer;
    try {
      bytes = this.serialize(message);
    } catch (err) {
      this.sendStatus(GrpcStatus.INTERNAL, `Failed to serialize the response message: ${(err as Error).message}`, undefined);
      if (done !== undefined) process.nextTick(done, err as Error);
      return false;
    }
    const queued = this.native.write(bytes, done === undefined ? undefined : () => done(null));
    if (!queued && done !== undefined) process.nextTick(done, new Error('the call is closed'));
    return queued;
  }

  /** Ends the call with OK (after queued messages) and optional trailing metadata. */
  end(metadata?: unknown): this {
    if (this.finished) return this;
    this.finished = true;
    this.native.end(metadata instanceof Metadata ? metadata : undefined);
    return this;
  }

  /** Ends the call with a status (used by errors and callbacks). */
  sendStatus(code: number, details: string, metadata: Metadata | undefined): void {
    if (this.finished) return;
    this.finished = true;
    if (code === GrpcStatus.OK) this.native.end(metadata);
    else this.native.fail(code, details, metadata);
  }

  /** Unary / client-streaming response. */
  respond(err: unknown, value: unknown, trailers: unknown): void {
    if (this.finished) return;
    if (err !== null && err !== undefined) {
      const status = statusOf(err);
      this.sendStatus(status.code, status.details, status.metadata);
      return;
    }
    let bytes: Buffer;
    try {
      bytes = this.serialize(value);
    } catch (e) {
      this.sendStatus(GrpcStatus.INTERNAL, `Failed to serialize the response message: ${(e as Error).message}`, undefined);
      return;
    }
    this.native.write(bytes);
    this.finished = true;
    this.native.end(trailers instanceof Metadata ? trailers : undefined);
  }
}

/**
 * Native handlers (by :path) for grpc-js services. Methods without an implementation are left out (the
 * server answers UNIMPLEMENTED). Throws TypeError naming a definition entry that is not a method definition.
 */
export function createCompatHandlers(
  services: ReadonlyArray<{ readonly definition: ServiceDefinition; readonly implementation: UntypedServiceImplementation }>,
): Record<string, CallHandler> {
  const handlers: Record<string, CallHandler> = {};
  for (const { definition, implementation } of services) {
    for (const [name, method] of Object.entries(definition)) {
      if (method === null || typeof method !== 'object' || typeof method.path !== 'string' || typeof method.requestDeserialize !== 'function' || typeof method.responseSerialize !== 'function') {
        throw new TypeError(`services: definition entry ${JSON.stringify(name)} is not a grpc-js method definition (path, requestDeserialize, responseSerialize)`);
      }
      const impl = (implementation[name] ?? (method.originalName !== undefined ? implementation[method.originalName] : undefined)) as AnyFunction | undefined;
      if (typeof impl !== 'function') continue;
      const serialize = method.responseSerialize as Serialize;
      const deserialize = method.requestDeserialize as Deserialize;
      const path = method.path;
      if (method.requestStream) {
        // Client-streaming and bidi: the handler runs at once and reads through events.
        handlers[path] = (native, metadata) => {
          const call = new CompatCall(native, metadata, path, serialize, deserialize, true);
          if (method.responseStream) impl(call);
          else impl(call, (err: unknown, value: unknown, trailers: unknown) => call.respond(err, value, trailers));
        };
      } else {
        // Unary and server-streaming: the handler runs once the single request message and the half-close arrived.
        handlers[path] = (native, metadata) => {
          let request: Buffer | undefined;
          native.onMessage = (bytes) => {
            if (request !== undefined) {
              native.fail(GrpcStatus.UNIMPLEMENTED, `Received a second request message for ${method.responseStream ? 'server streaming' : 'unary'} method ${path}`);
              return;
            }
            request = bytes;
          };
          native.onEnd = () => {
            if (request === undefined) {
              native.fail(GrpcStatus.UNIMPLEMENTED, `Received no request message for ${method.responseStream ? 'server streaming' : 'unary'} method ${path}`);
              return;
            }
            native.onMessage = native.onEnd = undefined;
            const call = new CompatCall(native, metadata, path, serialize, deserialize, false);
            try {
              call.request = deserialize(request);
            } catch (err) {
              call.sendStatus(GrpcStatus.INTERNAL, `Failed to deserialize the request message: ${(err as Error).message}`, undefined);
              return;
            }
            request = undefined;
            if (method.responseStream) impl(call);
            else impl(call, (err: unknown, value: unknown, trailers: unknown) => call.respond(err, value, trailers));
          };
        };
      }
    }
  }
  return handlers;
}
