import type { Node } from '../gen/envoy/config/core/v3/base_pb.js';
import type { XdsErrorCode } from './errors.js';
import type { FleetRegistry, StreamRecord } from './fleet-view.js';
import type { Snapshot, TypeSnapshot } from './snapshot.js';
import { TypeUrl, isTypeUrl } from './type-urls.js';

/**
 * What a protocol state machine (SotW or delta) needs from the transport and the caches. The
 * server builds one per stream; the state machines never touch grpc-js directly.
 */
export interface StreamContext {
  readonly record: StreamRecord;
  readonly fleet: FleetRegistry;
  /** Writes one encoded response on the stream. */
  send(bytes: Buffer): void;
  /** Ends the stream with an error status (the stream then receives nothing more). */
  fail(code: XdsErrorCode, message: string): void;
  /**
   * Binds the stream to its node on the first request: resolves the group, authorizes the node,
   * starts watching the group's snapshot and (for identities) the secrets. Resolves false when the
   * stream was ended instead.
   */
  bindNode(node: Node): Promise<boolean>;
  /** The group's current snapshot (undefined until one is published). */
  snapshot(): Snapshot | undefined;
  /** The identity's current secrets (undefined while loading or without identity). */
  secrets(): TypeSnapshot | undefined;
}

/** The TypeSnapshot a stream serves for a typeUrl: SDS from the identity, the rest from the group. */
export function currentTypeSnapshot(ctx: StreamContext, typeUrl: TypeUrl): TypeSnapshot | undefined {
  if (typeUrl === TypeUrl.Secret) return ctx.secrets();
  return ctx.snapshot()?.type(typeUrl);
}

/** Protocol state machine interface implemented by the SotW and delta streams. */
export interface AdsProtocol {
  /**
   * Handles one decoded request. Returns a promise only while the stream binds to its node (first
   * request); the server holds later requests until it settles, so requests are handled strictly in
   * arrival order without a promise per request.
   */
  onRequest(request: unknown): Promise<void> | void;
  /** The group's snapshot or the identity's secrets changed: push what changed. */
  onUpdate(): void;
}

/**
 * The request entry point both ADS protocols share. Every request stamps the stream's lastSeen.
 * The first request must carry a node with a non-empty id (otherwise the stream fails with
 * INVALID_REQUEST, naming `requestKind`); it binds the stream to that node, and a failed bind ends
 * the stream and hands nothing on. Each request handled after the bind (the first included) must
 * name a typeUrl (an aggregated stream carries all types; an empty one fails the stream with
 * INVALID_REQUEST); a typeUrl this control plane does not serve is counted in
 * `unknownTypeRequests` and otherwise ignored. The rest go to `handle` with their typeUrl.
 * The returned function follows AdsProtocol.onRequest: a promise only while the stream binds.
 */
export function createAdsRequestHandler<R extends { node?: Node | undefined; typeUrl: string }>(
  ctx: StreamContext,
  requestKind: string,
  handle: (request: R, typeUrl: TypeUrl) => void,
): (raw: unknown) => Promise<void> | void {
  let bound = false;
  const dispatch = (req: R): void => {
    if (req.typeUrl === '') {
      ctx.fail('INVALID_REQUEST', 'type_url: required on an aggregated (ADS) stream');
      return;
    }
    const typeUrl = req.typeUrl;
    if (!isTypeUrl(typeUrl)) {
      // Envoy may ask for types this control plane does not serve (e.g. VHDS); answering nothing is
      // what it expects from a server without that type. The request is recorded, not fatal.
      ctx.record.unknownTypeRequests++;
      return;
    }
    handle(req, typeUrl);
  };
  return (raw) => {
    const req = raw as R;
    ctx.record.lastSeen = Date.now();
    if (!bound) {
      if (req.node === undefined || req.node.id === '') {
        ctx.fail('INVALID_REQUEST', `node: the first ${requestKind} on a stream must carry node with a non-empty id`);
        return;
      }
      return ctx.bindNode(req.node).then((ok) => {
        if (!ok) return;
        bound = true;
        dispatch(req);
      });
    }
    dispatch(req);
  };
}
