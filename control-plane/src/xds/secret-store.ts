import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Message } from '@bufbuild/protobuf';
import { XdsError } from './errors.js';
import { TypeUrl, resourceNameOf, typeUrlOfMessage } from './type-urls.js';
import { createTypeSnapshot, encodeResource, type EncodedResource, type TypeSnapshot } from './snapshot.js';
import type { SecretSource } from './secret-source.js';
import type { StreamIdentity } from './stream-auth.js';

/**
 * Per-identity SDS resources, encoded once per identity and version and shared by that identity's
 * streams. The identity key is `StreamIdentity.id`; nothing here is ever keyed by node or group, so
 * a stream can only be handed the TypeSnapshot of its own identity.
 */
export interface SecretStore {
  /** The identity's current secrets, loading them on first use. Rejects with SECRETS_UNAVAILABLE. */
  load(identity: StreamIdentity): Promise<TypeSnapshot>;
  /**
   * Subscribes to new secret versions of one identity; returns the unsubscribe function.
   * `onDenied` is called when the source refuses the identity (PERMISSION_DENIED/UNAUTHENTICATED,
   * e.g. its certificate was revoked): its streams must end.
   */
  watch(identity: StreamIdentity, listener: (secrets: TypeSnapshot) => void, onDenied?: (err: XdsError) => void): () => void;
  /**
   * Re-reads the secrets of `identityId` (or of every identity with a watcher when undefined) and
   * notifies that identity's watchers when the content changed. Resolves with the ids re-read;
   * failures are reported through `onError` and leave the previous secrets in place.
   */
  refresh(identityId?: string): Promise<string[]>;
}

interface Entry {
  identity: StreamIdentity;
  current: TypeSnapshot | undefined;
  loading: Promise<TypeSnapshot> | undefined;
  watchers: number;
}

function digestOf(resources: ReadonlyMap<string, EncodedResource>): string {
  const parts = [...resources.values()].map((r) => `${r.name}\u0000${r.version}`).sort();
  return createHash('sha256').update(parts.join('\u0001')).digest('base64url').slice(0, 16);
}

export function createSecretStore(
  source: SecretSource | undefined,
  onError: (identityId: string, err: XdsError) => void = () => {},
): SecretStore {
  const entries = new Map<string, Entry>();
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const denials = new EventEmitter();
  denials.setMaxListeners(0);
  const isDenial = (e: XdsError): boolean => e.code === 'PERMISSION_DENIED' || e.code === 'UNAUTHENTICATED';

  const fetch = async (identity: StreamIdentity): Promise<TypeSnapshot> => {
    if (source === undefined) return createTypeSnapshot(TypeUrl.Secret, 'none', new Map());
    let list: readonly Message[];
    try {
      list = await source.secretsFor(identity);
    } catch (err) {
      // A refusal (any error whose `code` is PERMISSION_DENIED or UNAUTHENTICATED, e.g. a CaError for
      // a revoked identity) keeps its code and message; anything else is a transient failure.
      const code = (err as { code?: unknown } | null)?.code;
      if (code === 'PERMISSION_DENIED' || code === 'UNAUTHENTICATED') {
        throw new XdsError(code, (err as Error).message, { cause: err });
      }
      throw new XdsError('SECRETS_UNAVAILABLE', `secretsFor("${identity.id}") failed: ${(err as Error).message ?? String(err)}`, { cause: err });
    }
    const encoded = new Map<string, EncodedResource>();
    for (const m of list) {
      if (typeUrlOfMessage(m) !== TypeUrl.Secret) {
        throw new XdsError('SECRETS_UNAVAILABLE', `secretsFor("${identity.id}") returned a ${m.$typeName}, not a Secret`);
      }
      const name = resourceNameOf(m);
      if (name === '' || encoded.has(name)) {
        throw new XdsError('SECRETS_UNAVAILABLE', `secretsFor("${identity.id}") returned a secret with ${name === '' ? 'an empty' : 'a duplicate'} name "${name}"`);
      }
      encoded.set(name, encodeResource(TypeUrl.Secret, m));
    }
    return createTypeSnapshot(TypeUrl.Secret, digestOf(encoded), encoded);
  };

  const entryOf = (identity: StreamIdentity): Entry => {
    let e = entries.get(identity.id);
    if (e === undefined) {
      e = { identity, current: undefined, loading: undefined, watchers: 0 };
      entries.set(identity.id, e);
    }
    return e;
  };

  const reload = (e: Entry): Promise<TypeSnapshot> => {
    const p = fetch(e.identity).then(
      (ts) => {
        if (e.loading === p) e.loading = undefined;
        const changed = e.current === undefined || e.current.digest !== ts.digest;
        if (changed) {
          e.current = ts;
          emitter.emit(e.identity.id, ts);
        }
        return e.current!;
      },
      (err: unknown) => {
        if (e.loading === p) e.loading = undefined;
        const x = XdsError.from(err, 'SECRETS_UNAVAILABLE');
        if (isDenial(x)) {
          // Nothing of a refused identity stays cached; its streams are told to end.
          e.current = undefined;
          denials.emit(e.identity.id, x);
        }
        throw x;
      },
    );
    e.loading = p;
    return p;
  };

  return {
    load(identity) {
      const e = entryOf(identity);
      if (e.current !== undefined) return Promise.resolve(e.current);
      return e.loading ?? reload(e);
    },
    watch(identity, listener, onDenied) {
      const e = entryOf(identity);
      e.watchers++;
      emitter.on(identity.id, listener);
      if (onDenied !== undefined) denials.on(identity.id, onDenied);
      return () => {
        emitter.off(identity.id, listener);
        if (onDenied !== undefined) denials.off(identity.id, onDenied);
        if (--e.watchers <= 0 && entries.get(identity.id) === e) entries.delete(identity.id);
      };
    },
    async refresh(identityId) {
      const targets = identityId === undefined ? [...entries.values()] : [entries.get(identityId)].filter((e): e is Entry => e !== undefined);
      await Promise.all(
        targets.map((e) =>
          reload(e).catch((err: unknown) => {
            const x = XdsError.from(err, 'SECRETS_UNAVAILABLE');
            if (!isDenial(x)) onError(e.identity.id, x);
          }),
        ),
      );
      return targets.map((e) => e.identity.id);
    },
  };
}
