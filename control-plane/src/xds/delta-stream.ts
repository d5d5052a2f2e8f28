import type { DeltaDiscoveryRequest } from '../gen/envoy/service/discovery/v3/discovery_pb.js';
import { encodeDeltaDiscoveryResponse, lengthDelimited, stringField } from './wire.js';
import { ALL_TYPE_URLS, isWildcardType, type TypeUrl } from './type-urls.js';
import { createAdsRequestHandler, currentTypeSnapshot, type AdsProtocol, type StreamContext } from './stream-context.js';

/** Per-typeUrl state of an incremental subscription. */
interface DeltaTypeState {
  wildcard: boolean;
  /** Explicitly subscribed names (besides the wildcard). */
  names: Set<string>;
  /**
   * What the client holds, name → version: from initial_resource_versions, then from every
   * response sent (accepted or not — a NACKed version is not resent). '' marks a name the client
   * was told does not exist.
   */
  known: Map<string, string>;
  /** Outstanding responses: nonce → system_version_info. */
  pending: Map<string, string>;
  /** Whether any response was sent for this type (a first wildcard request is always answered). */
  answered: boolean;
  /** TypeSnapshot the last diff was computed against; cleared by any subscription change. */
  seen: import('./snapshot.js').TypeSnapshot | undefined;
}

const WILDCARD = '*';
/** Responses kept in `pending` per type; a client that never ACKs cannot grow the map beyond this. */
const MAX_PENDING = 16;

/**
 * Incremental ADS (DeltaAggregatedResources), per the xDS protocol:
 *
 *  - Subscriptions are deltas and always applied, whatever the nonce: LDS/CDS are wildcard when the
 *    first request for the type subscribes nothing, or when `*` is subscribed (unsubscribing `*`
 *    ends it). Other types are by name only. Subscribing a name always (re)sends it, even if the
 *    client is believed to hold its latest version; unsubscribed names are forgotten (no removal).
 *  - initial_resource_versions (first request of a type, e.g. after a reconnect) says what the client
 *    already holds: only resources whose version differs are sent, and held resources that no longer
 *    exist are listed in removed_resources.
 *  - response_nonce pairs a request with a response: ACK/NACK (error_detail) is decided on the nonce
 *    only; a nonce that is not outstanding is counted as stale and its ACK/NACK ignored. A NACK
 *    records error_detail per node and type; the rejected versions are not resent — only a newer
 *    version of a resource is.
 *  - Resource versions are content hashes; system_version_info is the type's snapshot version.
 *  - A subscribed name that does not exist is answered once with a Resource carrying only its name
 *    (no `resource`), as the protocol describes for "does not exist".
 */
export function createDeltaProtocol(ctx: StreamContext): AdsProtocol {
  const states = new Map<TypeUrl, DeltaTypeState>();
  let nonceCounter = 0;

  const inScope = (state: DeltaTypeState, name: string): boolean => state.wildcard || state.names.has(name);

  const push = (typeUrl: TypeUrl, state: DeltaTypeState): void => {
    const answerEmpty = !state.answered && state.wildcard;
    const ts = currentTypeSnapshot(ctx, typeUrl);
    if (ts === undefined) return;
    if (state.seen === ts) return; // nothing changed since the last diff
    state.seen = ts;
    const fields: Buffer[] = [];
    const removed: string[] = [];
    const sentNames: Array<[string, string]> = [];
    for (const [name, r] of ts.resources) {
      if (!inScope(state, name)) continue;
      if (state.known.get(name) === r.version) continue;
      fields.push(r.deltaField());
      sentNames.push([name, r.version]);
    }
    for (const [name, version] of state.known) {
      if (ts.resources.has(name)) continue;
      if (version === '') continue; // already told it does not exist
      if (inScope(state, name)) removed.push(name);
    }
    for (const name of state.names) {
      if (!ts.resources.has(name) && !state.known.has(name)) {
        // "Does not exist": a Resource with only its name.
        fields.push(lengthDelimited(2, stringField(3, name)));
        sentNames.push([name, '']);
      }
    }
    if (fields.length === 0 && removed.length === 0 && !answerEmpty) return;
    const nonce = (++nonceCounter).toString(36);
    state.answered = true;
    for (const [name, version] of sentNames) state.known.set(name, version);
    for (const name of removed) state.known.delete(name);
    state.pending.set(nonce, ts.version);
    if (state.pending.size > MAX_PENDING) state.pending.delete(state.pending.keys().next().value!);
    const rec = ctx.fleet.typeRecord(ctx.record, typeUrl);
    rec.sentVersion = ts.version;
    rec.sentAt = Date.now();
    ctx.send(encodeDeltaDiscoveryResponse(ts.version, typeUrl, fields, removed, nonce));
  };

  const subscribedList = (state: DeltaTypeState): string[] => {
    const list = [...state.names].sort();
    return state.wildcard ? [WILDCARD, ...list] : list;
  };

  const handle = (req: DeltaDiscoveryRequest, typeUrl: TypeUrl): void => {
    let state = states.get(typeUrl);
    const first = state === undefined;
    if (state === undefined) {
      state = { wildcard: false, names: new Set(), known: new Map(), pending: new Map(), answered: false, seen: undefined };
      for (const [name, version] of Object.entries(req.initialResourceVersions)) state.known.set(name, version);
      if (isWildcardType(typeUrl) && req.resourceNamesSubscribe.length === 0) state.wildcard = true;
      states.set(typeUrl, state);
    }
    for (const name of req.resourceNamesSubscribe) {
      if (name === WILDCARD && isWildcardType(typeUrl)) {
        state.wildcard = true;
        continue;
      }
      state.names.add(name);
      // The client may have forgotten it: always resend a (re)subscribed resource.
      if (!first) state.known.delete(name);
    }
    for (const name of req.resourceNamesUnsubscribe) {
      if (name === WILDCARD && isWildcardType(typeUrl)) {
        state.wildcard = false;
        for (const known of [...state.known.keys()]) if (!state.names.has(known)) state.known.delete(known);
        continue;
      }
      state.names.delete(name);
      if (!state.wildcard) state.known.delete(name);
    }
    if (first || req.resourceNamesSubscribe.length > 0 || req.resourceNamesUnsubscribe.length > 0) {
      state.seen = undefined;
      ctx.fleet.typeRecord(ctx.record, typeUrl).subscribed = subscribedList(state);
    }

    const nonce = req.responseNonce;
    if (nonce !== '') {
      const version = state.pending.get(nonce);
      if (version === undefined) {
        ctx.record.staleRequests++;
      } else {
        state.pending.delete(nonce);
        if (req.errorDetail !== undefined) {
          ctx.fleet.nack(ctx.record, typeUrl, {
            version,
            nonce,
            code: req.errorDetail.code,
            message: req.errorDetail.message,
            at: new Date(),
          });
        } else {
          ctx.fleet.ack(ctx.record, typeUrl, version);
        }
      }
    }
    push(typeUrl, state);
  
  };

  return {
    onRequest: createAdsRequestHandler<DeltaDiscoveryRequest>(ctx, 'DeltaDiscoveryRequest', handle),
    onUpdate() {
      for (const typeUrl of ALL_TYPE_URLS) {
        const state = states.get(typeUrl);
        if (state !== undefined) push(typeUrl, state);
      }
    },
  };
}
