import type { DiscoveryRequest } from '../gen/envoy/service/discovery/v3/discovery_pb.js';
import { stringField } from './wire.js';
import { ALL_TYPE_URLS, isWildcardType, type TypeUrl } from './type-urls.js';
import { nextNonce, type TypeSnapshot } from './snapshot.js';
import { NO_NAMES, internNames, sameNames, type SubscribedNames } from './subscribed-names.js';

const WILDCARD_LIST: readonly string[] = Object.freeze(['*']);
import { createAdsRequestHandler, currentTypeSnapshot, type AdsProtocol, type StreamContext } from './stream-context.js';

/** Per-typeUrl state of a state-of-the-world subscription (kept small: 10k+ streams). */
interface SotwTypeState {
  /** undefined = wildcard (LDS/CDS only); otherwise an interned, shared name set. */
  names: SubscribedNames | undefined;
  /** The client's first request switched on legacy wildcard (empty names) — stays until it names resources. */
  legacyWildcard: boolean;
  /** Nonce of the latest response sent for this type ('' before the first). */
  lastNonce: string;
  /** TypeSnapshot and subscription the latest push decision was made for (identity compares). */
  seen: TypeSnapshot | undefined;
  seenNames: SubscribedNames | undefined | null;
  /** Content key of the latest response sent (undefined before the first). */
  sentContent: string | undefined;
  /** version_info of the latest response sent, to name an ACKed or NACKed version. */
  sentVersion: string;
  /** TypeSnapshot of the latest response sent (see the nonce rule in maybeSend). */
  sentFrom: TypeSnapshot | undefined;
}

const WILDCARD = '*';

/**
 * State-of-the-world ADS (StreamAggregatedResources), per the xDS protocol:
 *
 *  - Subscriptions: LDS and CDS are wildcard when the first request for the type has no names
 *    (legacy wildcard: later empty requests keep it) or when names contain `*` (explicit wildcard);
 *    once a legacy-wildcard client names resources, an empty list means "none". RDS, EDS, SDS and
 *    ECDS are always by name; `*` has no meaning for them.
 *  - Nonces: a request whose response_nonce is non-empty and not the latest nonce sent for its type
 *    (stale, or never sent) is ignored entirely — subscriptions included — as the spec asks; the
 *    client's next request carrying the latest nonce repeats its full name list, so nothing is lost.
 *    A request with an empty nonce (first request, reconnect, or a re-subscription sent before any
 *    response of the type arrived) is a subscription update; so is a request carrying a nonce when
 *    nothing of its type was sent on this stream yet (a nonce carried over from a previous stream:
 *    ignoring it would leave that client waiting forever). Neither ACKs nor NACKs anything.
 *  - ACK/NACK is decided on the nonce and error_detail, never on version_info (a NACK may carry the
 *    new version). A NACK records error_detail for the node and type and leaves the last ACKed
 *    version in place; nothing is resent for it. Only a new snapshot version of the type (or a change
 *    of the subscribed names) produces a new response, so a bad version is never resent in a loop.
 *  - Responses: LDS/CDS responses carry every subscribed resource (absence means deletion); named
 *    types carry the subscribed resources that exist. A response is sent when the type's snapshot
 *    changed or the set of resources to include changed; a first LDS/CDS request is always answered,
 *    even with no resources, so Envoy's initialization can finish.
 *  - version_info is the type's version in the group snapshot (SDS: the identity's secrets version).
 */
export function createSotwProtocol(ctx: StreamContext): AdsProtocol {
  const states = new Map<TypeUrl, SotwTypeState>();

  const maybeSend = (typeUrl: TypeUrl, state: SotwTypeState, force: boolean): void => {
    const ts = currentTypeSnapshot(ctx, typeUrl);
    if (ts === undefined) return;
    // Fast path for pushes: nothing changed for this stream's view of the type.
    if (!force && state.seen === ts && state.seenNames === state.names) return;
    state.seen = ts;
    state.seenNames = state.names;
    const sotw = ts.sotw(state.names);
    if (!force) {
      // The spec asks for responses only when the resources the client gets changed.
      if (state.sentContent === sotw.contentKey) return;
      if (state.sentContent === undefined && sotw.count === 0 && !isWildcardType(typeUrl)) return;
    }
    // The first response a stream gets from a TypeSnapshot is the shared, pre-built one (its nonce
    // is unique to that body). Further responses from the same TypeSnapshot (subscription changes,
    // which could bring a body back: A → B → A) get a fresh nonce, so nonces never repeat on a stream.
    let bytes = sotw.response;
    let nonce = sotw.nonce;
    if (state.sentFrom === ts) {
      nonce = nextNonce();
      bytes = Buffer.concat([sotw.body, stringField(5, nonce)]);
    }
    state.sentFrom = ts;
    state.lastNonce = nonce;
    state.sentContent = sotw.contentKey;
    state.sentVersion = ts.version;
    const rec = ctx.fleet.typeRecord(ctx.record, typeUrl);
    rec.sentVersion = ts.version;
    rec.sentAt = Date.now();
    ctx.send(bytes);
  };

  const updateNames = (typeUrl: TypeUrl, state: SotwTypeState | undefined, names: readonly string[]): SotwTypeState => {
    const first = state === undefined;
    const s: SotwTypeState = state ?? {
      names: NO_NAMES,
      legacyWildcard: false,
      lastNonce: '',
      seen: undefined,
      seenNames: null,
      sentContent: undefined,
      sentVersion: '',
      sentFrom: undefined,
    };
    const before = s.names;
    if (isWildcardType(typeUrl) && names.includes(WILDCARD)) {
      s.names = undefined;
      s.legacyWildcard = false;
    } else if (isWildcardType(typeUrl) && names.length === 0 && (first || s.legacyWildcard)) {
      s.names = undefined;
      s.legacyWildcard = true;
    } else {
      // ACKs repeat the same names: keep the shared object without allocating.
      if (s.names === undefined || !sameNames(s.names, names)) s.names = internNames(names);
      s.legacyWildcard = false;
    }
    if (first || s.names !== before) {
      ctx.fleet.typeRecord(ctx.record, typeUrl).subscribed = s.names === undefined ? WILDCARD_LIST : s.names.list;
    }
    return s;
  };

  const handle = (req: DiscoveryRequest, typeUrl: TypeUrl): void => {
    let state = states.get(typeUrl);
    const nonce = req.responseNonce;
    if (nonce !== '' && state !== undefined && state.lastNonce !== '') {
      if (nonce !== state.lastNonce) {
        ctx.record.staleRequests++;
        return;
      }
      if (req.errorDetail !== undefined) {
        ctx.fleet.nack(ctx.record, typeUrl, {
          version: state.sentVersion,
          nonce,
          code: req.errorDetail.code,
          message: req.errorDetail.message,
          at: new Date(),
        });
      } else {
        ctx.fleet.ack(ctx.record, typeUrl, state.sentVersion);
      }
    } else {
      if (nonce !== '') {
        // Nothing was sent for this type on this stream yet, so the nonce cannot be ours (a client
        // carrying one over from a previous stream): ignoring the request would leave the client
        // waiting forever, so it is served as a fresh subscription; it ACKs or NACKs nothing.
        ctx.record.staleRequests++;
      }
      if (state === undefined && req.versionInfo !== '') {
        // Reconnect: the client tells which version it runs; record it as its current version.
        ctx.fleet.typeRecord(ctx.record, typeUrl).ackedVersion = req.versionInfo;
      }
    }
    const isNew = state === undefined;
    state = updateNames(typeUrl, state, req.resourceNames);
    states.set(typeUrl, state);
    maybeSend(typeUrl, state, isNew && isWildcardType(typeUrl));
  
  };

  return {
    onRequest: createAdsRequestHandler<DiscoveryRequest>(ctx, 'DiscoveryRequest', handle),
    onUpdate() {
      for (const typeUrl of ALL_TYPE_URLS) {
        const state = states.get(typeUrl);
        if (state !== undefined) maybeSend(typeUrl, state, false);
      }
    },
  };
}
